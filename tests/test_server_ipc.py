"""The server on an ipc:// endpoint (Linux/macOS): a private socket file,
a full round trip, taking over a stale runtime file, and idle exit."""

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from server_fixtures import FAST_ENGINE_ARGS, TINY, make_job_inputs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ipc:// is not available on Windows")


@pytest.mark.slow
def test_ipc_server_round_trip_stale_takeover_and_idle_exit(server_factory, tmp_path):
    runtime_file = tmp_path / "run" / "server.json"
    runtime_file.parent.mkdir()
    dead_pid = 2**22 + 12345  # above Linux's largest pid: certainly not running
    runtime_file.write_text(json.dumps({"protocol": 1, "endpoint": "tcp://127.0.0.1:1", "pid": dead_pid,
                                        "token": "old"}))
    socket_path = tmp_path / "run" / "sockets" / "magic.sock"
    server = server_factory(tmp_path / "a", endpoint=f"ipc://{socket_path}", runtime_file=runtime_file,
                            extra_args=["--idle-exit", "8"])  # longer than the second server's start below

    info = server.runtime_info()
    assert info["endpoint"] == f"ipc://{socket_path}" and info["pid"] == server.pid and info["token"] != "old"
    assert f"taking over the stale runtime file of pid {dead_pid}" in server.log()
    assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o600  # only this user may connect
    assert stat.S_IMODE(os.stat(socket_path.parent).st_mode) == 0o700

    width, height = 64, 48
    image, source, target = make_job_inputs(width, height, (4, 4, 20, 20), (30, 20, 46, 36))
    with server.client() as client:
        events = []
        result = client.wait(client.submit(width, height, image, source, target, params=TINY),
                             on_event=events.append, timeout=120)
        assert len(result.layers) == 2 and len(result.edit_mask) == width * height
        assert any(e["type"] == "progress" and e["phase"] == "synthesis" for e in events)

        # A second server may not steal a live ipc socket (libzmq would unlink it).
        other = subprocess.run([sys.executable, "-m", "magic_server", "--endpoint", f"ipc://{socket_path}",
                                "--runtime-file", str(tmp_path / "other.json"), "--spool", str(tmp_path / "sp2"),
                                *FAST_ENGINE_ARGS], capture_output=True, text=True, timeout=120)
        assert other.returncode == 1 and "another process is listening" in other.stderr
        client.hello()  # still ours

    idle_since = time.monotonic()
    assert server.process.wait(30) == 0  # --idle-exit 8
    assert time.monotonic() - idle_since < 20
    assert "idle for 8 s" in server.log()
    assert not runtime_file.exists()


@pytest.mark.slow
def test_ipc_refuses_to_replace_anything_but_a_stale_socket(tmp_path):
    """libzmq unlinks what is at the path before binding: a file there must survive."""
    important = tmp_path / "important.txt"
    important.write_text("keep me")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for path in (important, folder):
        done = subprocess.run([sys.executable, "-m", "magic_server", "--endpoint", f"ipc://{path}",
                               "--runtime-file", str(tmp_path / "run.json"), "--spool", str(tmp_path / "spool"),
                               *FAST_ENGINE_ARGS], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "is not a socket" in done.stderr, done.stderr
    assert important.read_text() == "keep me" and folder.is_dir()
