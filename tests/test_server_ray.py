"""`--backend ray`: each job a Ray task, on a real local Ray instance with 2 CPUs
(and a two-node local cluster for a lost machine), behind the real ZeroMQ front."""

import subprocess
import time

import pytest

from magic_client import JobCancelled, JobFailed
from server_fixtures import TINY, make_job_inputs, start_server

# Ray is the cluster extra (pip install -e '.[cluster]'); make test installs it.

pytestmark = pytest.mark.slow
RAY_ARGS = ["--classifier", "random:resnet18", "--backend", "ray"]
LONG = {"preset": "preview", "mode": "position", "iterations": 5000}  # minutes: long enough to cut short
WIDTH, HEIGHT = 96, 72


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("ray-server"), engine_args=RAY_ARGS + ["--ray-cpus", "2"])
    yield server
    server.stop()


def until_running(client, job_id, timeout=120.0):
    """Wait for the job's first engine step, so that a Ray task is running it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(event.get("phase") == "synthesis" for event in client.poll(job_id, 200)):
            return
    raise AssertionError(f"job {job_id} did not start synthesis within {timeout} s")


def test_jobs_run_as_ray_tasks_with_progress_and_give_the_local_results(ray_server, magic_server):
    image, source, target = make_job_inputs(WIDTH, HEIGHT)
    params = dict(TINY, seed=5, variants=2)
    with ray_server.client(timeout=30) as client:
        assert "Ray cluster of this machine: 0 GPU(s), 2 CPU(s)" in client.info["devices"][0]["description"]
        job = client.submit(WIDTH, HEIGHT, image, source, target, params=params)
        phases = []
        result = client.wait(job, on_event=lambda event: phases.append(event.get("phase")), timeout=180)
        assert {"starting", "mask_net", "synthesis"} <= set(phases)
        assert client.status(job)["device"] == "ray:0"
    with magic_server.client(timeout=30) as local:
        here = local.wait(local.submit(WIDTH, HEIGHT, image, source, target, params=params), timeout=120)
    assert len(result.layers) == 2 and result.edit_mask == here.edit_mask
    for ours, theirs in zip(result.layers, here.layers):  # same engine, same seed; threads may round apart
        assert max(abs(a - b) for a, b in zip(ours, theirs)) <= 2


def test_a_cancel_stops_the_task_and_the_next_job_runs(ray_server):
    image, source, target = make_job_inputs(WIDTH, HEIGHT)
    with ray_server.client(timeout=30) as client:
        job = client.submit(WIDTH, HEIGHT, image, source, target, params=LONG)
        until_running(client, job)
        asked = time.monotonic()
        client.cancel(job)
        with pytest.raises(JobCancelled):
            client.wait(job, timeout=60)
        assert time.monotonic() - asked < 10  # before its next steps, not at the end of 5000
        assert client.wait(client.submit(WIDTH, HEIGHT, image, source, target, params=TINY), timeout=120).layers


def test_a_task_killed_after_its_cancel_ends_cancelled_not_failed(tmp_path):
    """With no grace, a cancelled task is killed at once (what happens to one that
    does not heed its cancel for 15 s): the job ends cancelled, the next job runs."""
    server = start_server(tmp_path, engine_args=RAY_ARGS + ["--ray-cpus", "2", "--ray-cancel-grace", "0"])
    try:
        image, source, target = make_job_inputs(WIDTH, HEIGHT)
        with server.client(timeout=30) as client:
            job = client.submit(WIDTH, HEIGHT, image, source, target, params=LONG)
            until_running(client, job)
            client.cancel(job)
            with pytest.raises(JobCancelled):
                client.wait(job, timeout=60)
            assert client.status(job)["state"] == "cancelled"
            assert client.wait(client.submit(WIDTH, HEIGHT, image, source, target, params=TINY), timeout=120).layers
        assert "did not stop 0 s after its cancel; killing it" in server.log()
    finally:
        server.stop()


def test_a_killed_ray_worker_fails_its_job_in_words_and_the_server_goes_on(ray_server):
    image, source, target = make_job_inputs(WIDTH, HEIGHT)
    with ray_server.client(timeout=30) as client:
        job = client.submit(WIDTH, HEIGHT, image, source, target, params=LONG)
        until_running(client, job)
        killed = subprocess.run(["pkill", "-9", "-f", "ray::run_engine_task"], check=False)
        assert killed.returncode == 0, "no Ray worker was running the job"
        with pytest.raises(JobFailed) as info:
            client.wait(job, timeout=120)
        assert "Ray worker running this job died" in str(info.value)
        assert client.status(job)["state"] == "failed"  # saved in the spool, not lost
        assert ray_server.alive()
        assert client.wait(client.submit(WIDTH, HEIGHT, image, source, target, params=TINY), timeout=180).layers


def test_a_machine_that_leaves_the_cluster_fails_its_job_and_a_new_one_takes_the_next(tmp_path):
    """Also: a cluster with no machine to run jobs on stops the server's start with a message."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})  # jobs can only run on the workers
    try:
        alone = start_server(tmp_path / "alone", engine_args=RAY_ARGS + ["--ray-address", cluster.address],
                             wait=False)
        assert alone.process.wait(120) == 4  # the engine could not start: said, not a hang
        assert "no machine of the Ray cluster can run a job" in alone.log()
        machine = cluster.add_node(num_cpus=1)
        server = start_server(tmp_path / "server", engine_args=RAY_ARGS + ["--ray-address", cluster.address])
        image, source, target = make_job_inputs(WIDTH, HEIGHT)
        with server.client(timeout=30) as client:
            job = client.submit(WIDTH, HEIGHT, image, source, target, params=LONG)
            until_running(client, job)
            cluster.remove_node(machine)
            with pytest.raises(JobFailed) as info:
                client.wait(job, timeout=120)
            assert "left the Ray cluster" in str(info.value) and "server is still running" in str(info.value)
            cluster.add_node(num_cpus=1)
            assert client.wait(client.submit(WIDTH, HEIGHT, image, source, target, params=TINY), timeout=180).layers
        server.stop()
    finally:
        cluster.shutdown()
