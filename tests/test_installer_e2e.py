"""The installer end to end, as a user runs it: subprocess, fake HOME, fake GIMP folders,
and a real HTTP server on 127.0.0.1 serving weights files the test made."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from installer_support import (FileServer, fake_gimp_dirs, installer_env, make_plugin_source,
                                    run_installer, sha256)

GOOD = os.urandom(1_500_000)
UNPUBLISHED = os.urandom(400_000)


def _manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({
        "default": "tiny_l2_eps0.05",
        "checkpoints": {
            "tiny_l2_eps0.05": {"file": "tiny_l2_eps0.05.ckpt", "arch": "resnet50", "norm": "l2",
                                "epsilon": 0.05, "urls": ["http://127.0.0.1:9/unused"],
                                "sha256": sha256(GOOD), "size": len(GOOD)},
            "tiny_l2_eps3": {"file": "tiny_l2_eps3.ckpt", "arch": "resnet50", "norm": "l2", "epsilon": 3.0,
                             "urls": ["http://127.0.0.1:9/unused"], "sha256": None, "size": None},
        },
    }))
    return path


def _setup(tmp_path):
    home = tmp_path / "home"
    gimp = fake_gimp_dirs(home)
    return home, gimp, installer_env(home), _manifest(tmp_path), make_plugin_source(tmp_path)


def test_install_check_rerun_and_uninstall_leave_only_what_was_there(tmp_path):
    home, gimp, env, manifest, plugin_src = _setup(tmp_path)
    data = home / ".local" / "share" / "magic-gimp"
    weights = data / "weights" / "tiny_l2_eps0.05.ckpt"
    other_plugin = gimp["native"] / "plug-ins" / "other" / "other.py"
    other_plugin.parent.mkdir()
    other_plugin.write_text("# someone else's plug-in\n")
    before = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    common = ["--manifest", manifest, "--retry-wait", "0"]

    with FileServer({"tiny_l2_eps0.05.ckpt": GOOD}) as server:
        # 1. The connection drops and retries are used up: the run fails but keeps the partial file.
        server.drop["tiny_l2_eps0.05.ckpt"] = [600_000]
        failed = run_installer(["--only", "weights", "--mirror", server.url, "--retries", "0", *common], env)
        assert failed.returncode == 1
        assert "resumes from there" in failed.stderr
        assert (weights.parent / (weights.name + ".part")).stat().st_size == 600_000
        assert not weights.exists()
        assert json.loads((data / "install-record.json").read_text())["state"] == "incomplete"

        # 2. Running the same command again continues from the .part with a Range request.
        resumed = run_installer(["--only", "weights", "--mirror", server.url, *common], env)
        assert resumed.returncode == 0, resumed.stderr + resumed.stdout
        assert "previous run did not finish" in resumed.stdout
        assert "sha256 verified" in resumed.stdout
        assert weights.read_bytes() == GOOD

        # 3. A third run does not download anything.
        again = run_installer(["--only", "weights", "--mirror", server.url, *common], env)
        assert again.returncode == 0 and "already present" in again.stdout
    assert [r[1] for r in server.requests] == [None, "bytes=600000-"]
    assert server.bytes_sent("tiny_l2_eps0.05.ckpt") == len(GOOD)

    plugin = run_installer(["--only", "plugin", "--plugin-source", plugin_src, "--no-vendor-zmq"], env)
    assert plugin.returncode == 0, plugin.stderr

    check = run_installer(["--check", "--manifest", manifest, "--gimp-python", sys.executable], env)
    out = check.stdout
    assert "OK       install record" in out
    assert out.count("OK       plug-in") == 2
    assert out.count("OK       pyzmq for GIMP") == 2  # this Python (the stand-in for GIMP's) has pyzmq
    assert "OK       weights                tiny_l2_eps0.05: ~/.local/share/magic-gimp/weights/" \
           "tiny_l2_eps0.05.ckpt sha256 verified" in out
    assert "MISSING  server venv" in out  # the server step was not run
    assert check.returncode == 1

    # Break things: the doctor names each problem.
    entry = gimp["native"] / "plug-ins" / "magic-gimp" / "magic-gimp.py"
    entry.chmod(0o644)
    (gimp["flatpak"] / "plug-ins" / "magic-gimp" / "magic-gimp.json").write_text("{not json")
    weights.write_bytes(GOOD[:-1] + bytes([GOOD[-1] ^ 0xFF]))  # same size, one byte changed
    broken = run_installer(["--check", "--manifest", manifest, "--gimp-python", sys.executable], env)
    assert broken.returncode == 1
    assert "FAIL     plug-in" in broken.stdout and "not executable (GIMP ignores it)" in broken.stdout
    assert "magic-gimp.json is not valid JSON" in broken.stdout
    assert "is not the published one" in broken.stdout

    # A file of the user's in our data folder must survive the uninstall.
    (data / "my-notes.txt").write_text("mine")
    removed = run_installer(["--uninstall"], env)
    assert removed.returncode == 0, removed.stderr
    after = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    expected = sorted(set(before) | {".local", ".local/share", ".local/share/magic-gimp",
                                     ".local/share/magic-gimp/my-notes.txt"})
    assert after == expected
    assert other_plugin.read_text() == "# someone else's plug-in\n"

    # Without the user's file the data folder goes too, and a second uninstall is a no-op.
    (data / "my-notes.txt").unlink()
    assert run_installer(["--uninstall"], env).returncode == 0
    assert "Nothing to uninstall" in run_installer(["--uninstall"], env).stdout


def test_corrupt_download_is_rejected_with_a_clear_message(tmp_path):
    home, _, env, manifest, _ = _setup(tmp_path)
    weights_dir = home / ".local" / "share" / "magic-gimp" / "weights"
    with FileServer({"tiny_l2_eps0.05.ckpt": GOOD}) as server:
        server.corrupt.add("tiny_l2_eps0.05.ckpt")
        done = run_installer(["--only", "weights", "--manifest", manifest, "--mirror", server.url], env)
    assert done.returncode == 1
    assert "is corrupt: its sha256 is" in done.stderr and sha256(GOOD) in done.stderr
    assert list(weights_dir.iterdir()) == []


def test_stalled_download_is_retried(tmp_path):
    home, _, env, manifest, _ = _setup(tmp_path)
    with FileServer({"tiny_l2_eps0.05.ckpt": GOOD}) as server:
        server.stall["tiny_l2_eps0.05.ckpt"] = [(300_000, 20)]
        done = run_installer(["--only", "weights", "--manifest", manifest, "--mirror", server.url,
                              "--stall-timeout", "0.5", "--retry-wait", "0"], env)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "stalled" in done.stdout
    assert [r[1] for r in server.requests] == [None, "bytes=300000-"]


def test_offline_weights_from_file_and_folder(tmp_path):
    home, _, env, manifest, _ = _setup(tmp_path)
    weights = home / ".local" / "share" / "magic-gimp" / "weights" / "tiny_l2_eps0.05.ckpt"
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "damaged.ckpt").write_bytes(GOOD[: len(GOOD) // 2])
    bad = run_installer(["--only", "weights", "--manifest", manifest, "--weights-from", usb / "damaged.ckpt"], env)
    assert bad.returncode == 1 and "is not the published tiny_l2_eps0.05.ckpt" in bad.stderr
    assert not weights.exists()

    (usb / "tiny_l2_eps0.05.ckpt").write_bytes(GOOD)
    good = run_installer(["--only", "weights", "--manifest", manifest, "--weights-from", usb], env)
    assert good.returncode == 0, good.stderr
    assert "copied, sha256 verified" in good.stdout and weights.read_bytes() == GOOD


def test_unpublished_hash_needs_allow_unverified_and_is_recorded(tmp_path):
    home, _, env, manifest, _ = _setup(tmp_path)
    record = home / ".local" / "share" / "magic-gimp" / "install-record.json"
    with FileServer({"tiny_l2_eps3.ckpt": UNPUBLISHED}) as server:
        args = ["--only", "weights", "--manifest", manifest, "--mirror", server.url, "--checkpoint", "l2:3"]
        refused = run_installer(args, env)
        assert refused.returncode == 1 and "--allow-unverified" in refused.stderr
        accepted = run_installer(args + ["--allow-unverified"], env)
    assert accepted.returncode == 0, accepted.stderr
    assert f"NOT verified: no published sha256; computed {sha256(UNPUBLISHED)}" in accepted.stdout
    info = json.loads(record.read_text())["weights"]["tiny_l2_eps3"]
    assert info["sha256"] == sha256(UNPUBLISHED) and info["verified"] is False
    assert len(server.requests) == 1  # the refused run did not download anything


def test_unknown_checkpoint_name_lists_where_to_look(tmp_path):
    home, _, env, manifest, _ = _setup(tmp_path)
    done = run_installer(["--only", "weights", "--manifest", manifest, "--checkpoint", "l2:42"], env)
    assert done.returncode == 1 and "Unknown checkpoint 'l2:42'" in done.stderr
    assert "--list-checkpoints" in done.stderr


def test_unreachable_weights_still_install_the_plugin_and_say_how_to_get_them(tmp_path):
    """A name that does not resolve (offline, a DNS failure): no minute of retries, the
    plug-in is installed anyway, and the summary names the three ways forward."""
    import time

    home, gimp, env, manifest, plugin_src = _setup(tmp_path)
    started = time.monotonic()
    done = run_installer(["--only", "weights", "--only", "plugin", "--manifest", manifest,
                          "--mirror", "http://weights.invalid", "--plugin-source", plugin_src,
                          "--no-vendor-zmq"], env)
    seconds = time.monotonic() - started
    assert done.returncode == 1
    assert "does not resolve" in done.stderr
    for way in ("--weights-from FILE", "--mirror URL", "resumes where it stopped"):
        assert way in done.stderr, done.stderr
    assert (gimp["native"] / "plug-ins" / "magic-gimp" / "magic-gimp.py").is_file()
    assert seconds < 30
    record = json.loads((home / ".local" / "share" / "magic-gimp" / "install-record.json").read_text())
    assert record["state"] == "incomplete"  # a later run continues
