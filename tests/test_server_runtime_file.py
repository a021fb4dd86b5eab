"""Start-up rules: one server per runtime file and spool, loopback only by
default, clear messages (and exit codes) when the server cannot start."""

import subprocess
import sys

import pytest

from server_fixtures import FAST_ENGINE_ARGS


def run_server(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "magic_server", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def test_second_server_for_the_same_runtime_file_refuses(magic_server, tmp_path):
    done = run_server("--runtime-file", magic_server.runtime_file, "--spool", tmp_path / "spool", *FAST_ENGINE_ARGS)
    assert done.returncode == 3
    assert "already running" in done.stderr
    assert str(magic_server.pid) in done.stderr and magic_server.endpoint in done.stderr
    assert magic_server.runtime_info()["pid"] == magic_server.pid  # untouched
    with magic_server.client() as client:
        client.hello()


def test_second_server_for_the_same_spool_refuses(magic_server, tmp_path):
    done = run_server("--runtime-file", tmp_path / "other.json", "--spool", magic_server.spool, *FAST_ENGINE_ARGS)
    assert done.returncode == 3
    assert "spool" in done.stderr and "in use" in done.stderr
    assert not (tmp_path / "other.json").exists()


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:0", "tcp://*:0", "tcp://192.168.1.10:5555"])
def test_non_loopback_tcp_needs_curve(tmp_path, endpoint):
    done = run_server("--endpoint", endpoint, "--runtime-file", tmp_path / "s.json", "--spool", tmp_path / "sp")
    assert done.returncode == 2
    assert "--curve" in done.stderr and "--allow-keys" in done.stderr
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("endpoint, words", [
    ("udp://127.0.0.1:5", "binds tcp://HOST:PORT or ipc://PATH"),
    ("tcp://127.0.0.1", "expected tcp://HOST:PORT"),
    ("tcp://127.0.0.1:99999", "port must be 0..65535"),
    ("ipc://", "ipc:// needs a path"),
])
def test_malformed_endpoints_are_refused(tmp_path, endpoint, words):
    done = run_server("--endpoint", endpoint, "--runtime-file", tmp_path / "s.json", "--spool", tmp_path / "sp")
    assert done.returncode == 2
    assert "error:" in done.stderr and words in done.stderr


@pytest.mark.slow
def test_engine_start_failure_is_explained_and_leaves_no_runtime_file(tmp_path):
    done = run_server("--runtime-file", tmp_path / "s.json", "--spool", tmp_path / "sp", "--device", "cpu",
                      "--classifier", "random:not_a_network")
    assert done.returncode == 4
    assert "the engine could not start" in done.stderr and "not_a_network" in done.stderr
    assert not (tmp_path / "s.json").exists()


@pytest.mark.slow
def test_missing_weights_stop_the_start_with_their_own_exit_code(tmp_path):
    missing = tmp_path / "weights" / "robust.ckpt"
    done = run_server("--runtime-file", tmp_path / "s.json", "--spool", tmp_path / "sp", "--device", "cpu",
                      "--classifier", missing)
    assert done.returncode == 5  # magic_client turns it into ServerUnavailable code weights_missing
    assert "classifier weights not found" in done.stderr and str(missing) in done.stderr


@pytest.mark.slow
def test_a_taken_port_is_reported_and_the_process_exits(magic_server, tmp_path):
    done = run_server("--endpoint", magic_server.endpoint, "--runtime-file", tmp_path / "s.json",
                      "--spool", tmp_path / "sp", *FAST_ENGINE_ARGS, timeout=60)
    assert done.returncode == 1
    assert "could not start on" in done.stderr and "in use" in done.stderr.lower()
    assert not (tmp_path / "s.json").exists()
