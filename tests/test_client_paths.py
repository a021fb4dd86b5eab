"""Default places of the data folder, the runtime file and the spool."""

import pytest

from magic_client import paths
from magic_common.paths import data_dir

ENV = ("MAGIC_GIMP_HOME", "MAGIC_GIMP_RUNTIME_FILE", "XDG_RUNTIME_DIR", "XDG_DATA_HOME")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


@pytest.mark.parametrize("setting, expected", [
    ({}, "home/.local/share/magic-gimp"), ({"XDG_DATA_HOME": "/xdg/data"}, "/xdg/data/magic-gimp"),
    ({"MAGIC_GIMP_HOME": "/opt/magic"}, "/opt/magic"), ({"MAGIC_GIMP_HOME": "~/magic"}, "home/magic")])
def test_data_dir_rule(clean_env, tmp_path, setting, expected):
    for name, value in setting.items():
        clean_env.setenv(name, value)
    assert data_dir() == tmp_path / expected  # an absolute `expected` replaces tmp_path


def test_runtime_file_rule(clean_env, tmp_path):
    home = tmp_path / "home"
    assert paths.default_runtime_file() == home / ".local" / "share" / "magic-gimp" / "server.json"
    assert paths.default_spool_dir() == home / ".local" / "share" / "magic-gimp" / "spool"
    clean_env.setenv("MAGIC_GIMP_HOME", str(tmp_path / "portable"))
    assert paths.default_runtime_file() == tmp_path / "portable" / "server.json"
    clean_env.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert str(paths.default_runtime_file()) == "/run/user/1000/magic-gimp/server.json"
    clean_env.setenv("MAGIC_GIMP_RUNTIME_FILE", str(tmp_path / "mine.json"))
    assert paths.default_runtime_file() == tmp_path / "mine.json"
    assert paths.default_log_file() == tmp_path / "mine.log"
