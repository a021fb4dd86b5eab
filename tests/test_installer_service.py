"""The optional systemd user unit, and uninstall's safety rules."""

from __future__ import annotations

import sys

import pytest

from installer_support import use_fake_home

from installer import service
from installer.record import InstallRecord
from installer.uninstall import uninstall


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd user units are Linux only")
def test_unit_is_written_and_removed_by_uninstall(tmp_path, monkeypatch):
    use_fake_home(monkeypatch, tmp_path / "home")
    record = InstallRecord.load(tmp_path / "data" / "install-record.json")
    command = ["/opt/magic venv/bin/python", "-m", "magic_server", "--note", "100%"]
    lines = service.install_service(command, record, systemctl=None)  # never touch the real user manager

    unit = tmp_path / "home" / ".config" / "systemd" / "user" / "magic-gimp-server.service"
    assert service.unit_path() == unit
    text = unit.read_text()
    assert 'ExecStart="/opt/magic venv/bin/python" "-m" "magic_server" "--note" "100%%"' in text
    assert "WantedBy=default.target" in text
    assert any("systemctl --user enable --now magic-gimp-server.service" in line for line in lines)

    assert uninstall(record.path) == 0
    assert not unit.exists()
    assert not (tmp_path / "home" / ".config").exists()  # we created it, it is empty again


def test_uninstall_refuses_to_delete_a_folder_that_does_not_look_like_ours(tmp_path):
    record = InstallRecord.load(tmp_path / "data" / "install-record.json")
    precious = tmp_path / "Pictures"
    (precious / "holiday.jpg").parent.mkdir()
    (precious / "holiday.jpg").write_bytes(b"jpeg")
    record.add(precious, "tree", "damaged record entry")
    assert uninstall(record.path) == 0
    assert (precious / "holiday.jpg").read_bytes() == b"jpeg"
