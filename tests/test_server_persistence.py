"""The spool keeps jobs through kill -9, SIGTERM and restarts; results are
kept until fetched-and-expired."""

import json
import os
import signal
import time

import pytest

from magic_client import JobFailed, MagicClient, ServerError, ServerUnavailable
from server_fixtures import TINY, make_job_inputs

W, H = 64, 48
LONG = dict(TINY, iterations=2000)


@pytest.fixture
def inputs():
    return make_job_inputs(W, H, (4, 4, 20, 20), (30, 20, 46, 36))


def wait_until_running(client, job, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for event in client.poll(job, timeout_ms=100):
            if event["type"] == "progress" and event["phase"] == "synthesis":
                return
    raise AssertionError(f"{job} never started")


def spool_state(server, job) -> dict:
    return json.loads((server.spool / "jobs" / job / "state.json").read_text())


def wait_until_done_unfetched(client, job, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while client.status(job)["state"] != "done":
        assert time.monotonic() < deadline, f"{job} did not finish"
        time.sleep(0.2)


@pytest.mark.slow
def test_kill_9_mid_job_then_restart_loses_nothing(server_factory, tmp_path, inputs):
    first = server_factory(tmp_path / "a", runtime_file=tmp_path / "server.json", spool=tmp_path / "spool")
    with MagicClient.connect(first.runtime_file, heartbeat_timeout=3) as client:
        interrupted = client.submit(W, H, *inputs, params=LONG)
        queued = [client.submit(W, H, *inputs, params=dict(TINY, iterations=2, seed=i)) for i in range(3)]
        wait_until_running(client, interrupted)
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait(10)
        killed_at = time.monotonic()
        with pytest.raises(ServerUnavailable) as info:  # a waiting client notices the missing heartbeats
            client.wait(interrupted, timeout=60)
        assert time.monotonic() - killed_at < 10
        assert "has stopped" in str(info.value) and str(first.pid) in str(info.value)
    assert first.runtime_file.exists()  # stale: nobody removed it
    assert spool_state(first, interrupted)["state"] == "running"
    assert [spool_state(first, job)["state"] for job in queued] == ["queued"] * 3

    second = server_factory(tmp_path / "b", runtime_file=tmp_path / "server.json", spool=tmp_path / "spool")
    assert second.runtime_info()["pid"] == second.pid  # took over the stale runtime file
    assert "taking over the stale runtime file" in second.log()
    with second.client() as client:
        status = client.status(interrupted)
        assert status["state"] == "failed" and status["code"] == "interrupted"
        assert status["message"] == "interrupted (server stopped during the job)"
        with pytest.raises(JobFailed) as info:
            client.wait(interrupted, timeout=10)
        assert info.value.code == "interrupted"
        for i, job in enumerate(queued):  # resumed in their old order, none lost
            result = client.wait(job, timeout=120)
            assert result.params["seed"] == i and len(result.layers) == 2
        listed = {j["id"]: j["state"] for j in client.jobs()}
    assert listed == {interrupted: "failed", **{job: "done" for job in queued}}
    assert not (second.spool / "jobs" / queued[0] / "image.rgba").exists()  # inputs dropped once done


@pytest.mark.slow
def test_sigterm_then_restart_keeps_queue_and_results(server_factory, tmp_path, inputs):
    shared = dict(runtime_file=tmp_path / "server.json", spool=tmp_path / "spool",
                  extra_args=["--keep-fetched", "1"])
    server = server_factory(tmp_path / "a", **shared)
    client = MagicClient.connect(server.runtime_file, timeout=2)
    finished = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
    wait_until_done_unfetched(client, finished)
    assert sorted(p.name for p in (server.spool / "jobs" / finished / "result").iterdir()) == [
        "composite_0.rgba", "composite_1.rgba", "edit_mask.u8", "report.json"]
    running = client.submit(W, H, *inputs, params=LONG)
    waiting = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
    wait_until_running(client, running)
    server.process.send_signal(signal.SIGTERM)
    with pytest.raises(JobFailed) as info:  # told before the server goes
        client.wait(running, timeout=30)
    assert info.value.code == "interrupted"
    assert server.process.wait(30) == 0
    assert not server.runtime_file.exists()
    assert spool_state(server, running)["state"] == "failed"
    assert spool_state(server, waiting)["state"] == "queued"
    assert "stopping: signal SIGTERM" in server.log()

    restarted = server_factory(tmp_path / "b", **shared)  # new port and token
    with client:  # the old client object follows the runtime file to the new server
        assert client.hello()["pid"] == restarted.pid
        assert len(client.wait(waiting, timeout=120).layers) == 2  # resumed
        result = client.result(finished)  # finished before the restart, never fetched: read from the spool
        image = inputs[0]
        kept = [i for i in range(W * H) if result.edit_mask[i] == 0]
        assert kept and all(result.layers[1][4 * i:4 * i + 4] == image[4 * i:4 * i + 4] for i in kept)
        assert result.report["config"]["preset"] == "tiny"
        assert client.status(finished)["fetched"] is True
        # --keep-fetched 1: removed from the spool at the next expiry pass.
        deadline = time.monotonic() + 10
        while (restarted.spool / "jobs" / finished).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not (restarted.spool / "jobs" / finished).exists()
        with pytest.raises(ServerError) as info:
            client.result(finished)
        assert info.value.code == "unknown_job"
