"""The engine runs in a child process per device: what kills that process
(the out-of-memory killer, a segfault) fails the job with a message and the
server carries on with a new engine process; a server killed outright
takes its engine process with it."""

import os
import re
import signal
import time

import pytest

from magic_client import JobFailed
from server_fixtures import TINY, make_job_inputs


def engine_pids(server):
    return [int(pid) for pid in re.findall(r"engine process (\d+) runs cpu", server.log())]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def threads_left(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def run_until_synthesis(client, seed):
    image, source, target = make_job_inputs()
    job = client.submit(96, 72, image, source, target, params=dict(TINY, iterations=20_000, seed=seed))
    deadline = time.monotonic() + 120
    while True:
        events = client.poll(job, timeout_ms=200)
        if any(e["type"] == "progress" and e.get("phase") == "synthesis" for e in events):
            return job
        assert time.monotonic() < deadline, "the job never reached the synthesis"


@pytest.mark.slow
@pytest.mark.parametrize("signum, words", [(signal.SIGKILL, "out of memory"), (signal.SIGSEGV, "crashed (SIGSEGV)")])
def test_a_dead_engine_process_fails_the_job_not_the_server(magic_server, signum, words):
    with magic_server.client() as client:
        job = run_until_synthesis(client, seed=1)
        (child, *_) = engine_pids(magic_server)[-1:]
        assert child != magic_server.pid
        os.kill(child, signum)
        with pytest.raises(JobFailed) as failed:
            client.wait(job, timeout=60)
        assert failed.value.code == "engine_error"
        assert words in str(failed.value) and "server is still running" in str(failed.value)
        assert magic_server.alive() and client.hello()["protocol"] == 1

        image, source, target = make_job_inputs()
        again = client.submit(96, 72, image, source, target, params=dict(TINY, seed=2))
        assert len(client.wait(again, timeout=120).layers) == 2
        assert engine_pids(magic_server)[-1] != child, "the next job ran in a new engine process"


@pytest.mark.slow
def test_a_killed_server_leaves_no_engine_process_behind(server_factory):
    server = server_factory()
    with server.client() as client:
        run_until_synthesis(client, seed=3)
    (child,) = engine_pids(server)
    assert alive(child)
    server.kill()  # SIGKILL: no clean-up code runs in the server
    deadline = time.monotonic() + 30
    while alive(child):
        assert time.monotonic() < deadline, "the engine process outlived its server"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_stopped_server_stops_its_engine_process(server_factory):
    server = server_factory()
    (child,) = engine_pids(server)
    assert server.stop() == 0
    assert not alive(child)


def _spawned_engine_processes():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"multiprocessing.spawn" in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return set(found)


@pytest.mark.slow
def test_a_server_that_cannot_start_leaves_no_engine_process(tmp_path):
    import subprocess
    import sys

    before = _spawned_engine_processes()
    done = subprocess.run([sys.executable, "-m", "magic_server", "--endpoint", "tcp://127.0.0.1:0",
                           "--runtime-file", str(tmp_path / "s.json"), "--spool", str(tmp_path / "spool"),
                           "--classifier", "random:resnet18", "--device", "cpu", "--device", "cpu"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 4 and "device cpu was given twice" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    deadline = time.monotonic() + 15
    while _spawned_engine_processes() - before:
        assert time.monotonic() < deadline, "an engine process outlived a server that failed to start"
        time.sleep(0.2)


@pytest.mark.slow
def test_an_engine_process_that_cannot_start_again_fails_the_job_with_a_message(server_factory, tmp_path):
    import torch
    import torchvision

    weights = tmp_path / "resnet18-test.pt"
    torch.save(torchvision.models.resnet18(num_classes=1000).state_dict(), weights)
    server = server_factory(engine_args=["--classifier", str(weights), "--device", "cpu"])
    with server.client() as client:
        hidden = weights.with_name("hidden.pt")
        weights.rename(hidden)  # the next engine process cannot load its classifier
        (child,) = engine_pids(server)
        os.kill(child, signal.SIGKILL)  # while idle: the next job finds it gone and starts a new one
        deadline = time.monotonic() + 10
        while alive(child) or threads_left(child):  # its server can reap it only once every thread is gone
            assert time.monotonic() < deadline
            time.sleep(0.05)
        image, source, target = make_job_inputs()
        job = client.submit(96, 72, image, source, target, params=dict(TINY, classifier="resnet18-test", seed=4))
        with pytest.raises(JobFailed) as failed:
            client.wait(job, timeout=120)
        assert failed.value.code == "weights_missing"
        assert "could not be started again" in str(failed.value) and "server is still running" in str(failed.value)
        assert server.alive() and client.hello()["protocol"] == 1

        hidden.rename(weights)
        again = client.submit(96, 72, image, source, target, params=dict(TINY, classifier="resnet18-test", seed=4))
        assert len(client.wait(again, timeout=120).layers) == 2
