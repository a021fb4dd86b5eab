"""Cancelling: a running job stops within an engine step, a queued job at
once, and a job whose client went silent is cancelled by the server."""

import time

import pytest

from magic_client import JobCancelled, MagicClient
from server_fixtures import TINY, make_job_inputs

W, H = 64, 48
LONG = dict(TINY, iterations=2000)  # minutes on a CPU: certainly mid-flight when cancelled


@pytest.fixture
def inputs():
    return make_job_inputs(W, H, (4, 4, 20, 20), (30, 20, 46, 36))


def wait_for_step(client, job, step=1, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for event in client.poll(job, timeout_ms=100):
            if event["type"] == "progress" and event["phase"] == "synthesis" and event["step"] >= step:
                return event
    raise AssertionError(f"job {job} did not reach synthesis step {step}")


def test_cancel_mid_job_stops_quickly(magic_server, inputs):
    with magic_server.client() as client:
        job = client.submit(W, H, *inputs, params=LONG)
        wait_for_step(client, job, 2)
        started = time.monotonic()
        answer = client.cancel(job)
        assert answer["state"] == "running" and answer["cancel_requested"] is True
        with pytest.raises(JobCancelled) as info:
            client.wait(job, timeout=30)
        assert time.monotonic() - started < 10
        assert "cancelled by a client" in str(info.value)
        status = client.status(job)
        assert status["state"] == "cancelled" and status["step"] < 2000


def test_cancel_queued_job_and_wait_with_should_cancel(magic_server, inputs):
    with magic_server.client() as client:
        running = client.submit(W, H, *inputs, params=LONG)
        queued = client.submit(W, H, *inputs, params=TINY)
        assert client.status(queued)["state"] == "queued"
        assert client.cancel(queued)["state"] == "cancelled"
        with pytest.raises(JobCancelled):
            client.wait(queued, timeout=10)
        wait_for_step(client, running, 1)
        with pytest.raises(JobCancelled):
            client.wait(running, should_cancel=lambda: True, timeout=30)
        assert client.status(running)["state"] == "cancelled"


@pytest.mark.slow
def test_silent_client_gets_its_job_cancelled(magic_server, inputs):
    client = magic_server.client()
    job = client.submit(W, H, *inputs, params=LONG, cancel_if_silent_s=2)
    wait_for_step(client, job, 1)
    client.close()  # like GIMP SIGKILLing the plug-in: no cancel is sent
    silent_since = time.monotonic()
    with MagicClient.connect(magic_server.runtime_file) as observer:
        # Another client asking about the job is not a keepalive for it.
        while observer.status(job)["state"] == "running" and time.monotonic() - silent_since < 30:
            time.sleep(0.3)
        status = observer.status(job)
    assert status["state"] == "cancelled", status
    assert "no word from the client for 2 s" in status["message"]
    assert time.monotonic() - silent_since < 10


@pytest.mark.slow
def test_watch_or_ping_from_a_new_client_keeps_the_job_alive(magic_server, inputs):
    client = magic_server.client()
    job = client.submit(W, H, *inputs, params=LONG, cancel_if_silent_s=2)
    wait_for_step(client, job, 1)
    client.close()
    with MagicClient.connect(magic_server.runtime_file) as successor:  # e.g. the plug-in, restarted
        assert successor.watch(job)["state"] == "running"
        keep_until = time.monotonic() + 4  # twice the silence limit
        while time.monotonic() < keep_until:
            successor.poll(job, timeout_ms=200)  # sends keepalives
        assert successor.status(job)["state"] == "running"
        successor.cancel(job)
        with pytest.raises(JobCancelled):
            successor.wait(job, timeout=30)


def test_a_client_that_keeps_polling_is_not_cancelled(magic_server, inputs):
    with magic_server.client() as client:
        job = client.submit(W, H, *inputs, params=dict(TINY, iterations=60), cancel_if_silent_s=1.5)
        result = client.wait(job, timeout=120)  # wait() sends keepalives
        assert len(result.layers) == 2
