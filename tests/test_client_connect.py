"""Finding and starting the server from the client library."""

import json
import os
import signal
import socket
import sys
import time

import pytest

from magic_client import MagicClient, ServerUnavailable
from magic_client.runtime import pid_alive
from server_fixtures import FAST_ENGINE_ARGS, TINY, make_job_inputs

DEAD_PID = 2**22 + 12345  # above Linux's largest pid


def write_runtime(path, **fields):
    data = {"protocol": 1, "endpoint": "tcp://127.0.0.1:9", "pid": DEAD_PID, "token": "t"}
    data.update(fields)
    path.write_text(json.dumps(data))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_runtime_file_says_how_to_start_the_server(tmp_path):
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect(tmp_path / "none.json")
    assert "no MAGIC server is running" in str(info.value) and "python -m magic_server" in str(info.value)
    assert str(tmp_path / "none.json") in str(info.value)


def test_stale_damaged_and_foreign_runtime_files(tmp_path):
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect(write_runtime(tmp_path / "stale.json"))
    assert f"pid {DEAD_PID}" in str(info.value) and "stale" in str(info.value)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect(tmp_path / "bad.json")
    assert "damaged" in str(info.value)
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect(write_runtime(tmp_path / "v2.json", protocol=2, pid=os.getpid()))
    assert info.value.code == "bad_version" and "protocol 2" in str(info.value)


def test_a_live_but_silent_server_times_out_and_is_not_replaced(tmp_path):
    # pid of a live process (this one) but nobody answers on the endpoint
    runtime = write_runtime(tmp_path / "silent.json", pid=os.getpid(), endpoint=f"tcp://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect_or_start([sys.executable, "-c", "raise SystemExit('must not start')"], runtime,
                                     timeout=1.0)
    assert time.monotonic() - started < 5
    assert "did not answer" in str(info.value)
    assert not (tmp_path / "silent.log").exists()  # nothing was started


def test_start_failure_shows_the_servers_last_words(tmp_path):
    command = [sys.executable, "-c", "import sys; print('no GPU driver found'); sys.exit(4)"]
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect_or_start(command, tmp_path / "server.json", start_timeout=30)
    assert "exited with code 4" in str(info.value) and "no GPU driver found" in str(info.value)
    assert info.value.code is None
    assert (tmp_path / "server.log").exists()


def test_a_server_without_its_weights_is_said_by_code(tmp_path):
    command = [sys.executable, "-c", "import sys; print('WeightsMissing: /w.ckpt'); sys.exit(5)"]
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect_or_start(command, tmp_path / "server.json", start_timeout=30)
    assert info.value.code == "weights_missing" and "/w.ckpt" in str(info.value)


@pytest.mark.slow
def test_connect_or_start_starts_a_detached_server_once(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGIC_GIMP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYTHONPATH", "/nonexistent/gimp/python")  # GIMP's, must not leak into the server
    runtime = tmp_path / "run" / "server.json"
    command = [sys.executable, "-m", "magic_server", "--spool", str(tmp_path / "spool"), "--idle-exit", "120",
               *FAST_ENGINE_ARGS]
    client = MagicClient.connect_or_start(command, runtime, start_timeout=120)
    pid = client.server_pid
    try:
        assert client.started_process is not None and client.started_process.pid == pid
        assert os.getsid(pid) != os.getsid(0)  # own session: GIMP killing the plug-in's group spares it
        if os.path.exists(f"/proc/{pid}/environ"):
            with open(f"/proc/{pid}/environ", "rb") as f:
                assert b"PYTHONPATH=" not in f.read()
        assert "ready on tcp://127.0.0.1:" in (tmp_path / "run" / "server.log").read_text()
        width, height = 64, 48
        result = client.wait(client.submit(width, height, *make_job_inputs(width, height, (4, 4, 20, 20),
                                                                           (30, 20, 46, 36)), params=TINY), timeout=120)
        assert len(result.layers) == 2

        again = MagicClient.connect_or_start(command, runtime, start_timeout=120)
        assert again.server_pid == pid and again.started_process is None  # reused, not started twice
        again.shutdown()
        again.close()
        assert client.started_process.wait(30) == 0
        assert not runtime.exists()
    finally:
        client.close()
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
