"""The job board's queue with several clients: turns, per-client limits, kept across a restart.
Real spool folders; no engine (the board hands jobs out, the test plays the worker)."""

import pytest

from magic_server.jobs import LOCAL_CLIENT, Job, JobBoard, QueueFull, new_job_id
from magic_server.spool import Spool

SIZE = 4


def board(tmp_path, **kwargs) -> JobBoard:
    spool = Spool(tmp_path / "spool")
    spool.claim()
    return JobBoard(spool, kwargs.pop("max_queue", 32), lambda *args, **kw: None, **kwargs)


def submit(jobs: JobBoard, client: str, name: str) -> Job:
    job = Job(id=new_job_id(), width=SIZE, height=SIZE, params={"name": name}, client=client)
    pixels = SIZE * SIZE
    jobs.add(job, {"image": bytes(4 * pixels), "source_mask": bytes(pixels), "target_mask": bytes(pixels)})
    return job


def started_order(jobs: JobBoard) -> list:
    names = []
    while (job := jobs.take("cpu", timeout=0)) is not None:
        names.append(job.params["name"])
        jobs.finish_done(job, 0, {})
    return names


def test_clients_take_turns_each_in_its_own_order(tmp_path):
    jobs = board(tmp_path)
    for i in range(1, 5):
        submit(jobs, "ann", f"ann{i}")
    submit(jobs, "bo", "bo1")
    submit(jobs, LOCAL_CLIENT, "local1")
    submit(jobs, "bo", "bo2")
    positions = jobs.queue_positions()
    names = {job.id: job.params["name"] for job in jobs.all()}
    assert sorted(positions, key=positions.get) == [job_id for name in
                                                    ("ann1", "bo1", "local1", "ann2", "bo2", "ann3", "ann4")
                                                    for job_id in names if names[job_id] == name]
    assert started_order(jobs) == ["ann1", "bo1", "local1", "ann2", "bo2", "ann3", "ann4"]


def test_a_client_whose_job_just_ran_waits_for_the_others(tmp_path):
    jobs = board(tmp_path)
    submit(jobs, "ann", "ann1")
    first = jobs.take("cpu", timeout=0)  # ann's first job runs...
    submit(jobs, "ann", "ann2")
    submit(jobs, "ann", "ann3")
    late = submit(jobs, "bo", "bo1")  # ...and bo's single job, sent after ann's batch, goes next
    assert jobs.queue_position(late.id) == 0
    jobs.finish_done(first, 0, {})
    assert started_order(jobs) == ["bo1", "ann2", "ann3"]


def test_where_a_new_job_of_each_client_would_go(tmp_path):
    jobs = board(tmp_path)
    for i in range(1, 4):
        submit(jobs, "ann", f"ann{i}")
    assert jobs.position_of_next("bo") == 1  # after ann's first, before her second
    assert jobs.position_of_next("ann") == 3
    submit(jobs, "bo", "bo1")
    assert jobs.position_of_next("bo") == 3  # ann1, bo1, ann2, then bo's next
    assert jobs.position_of_next("cy") == 2


def test_one_client_cannot_fill_the_queue(tmp_path):
    jobs = board(tmp_path, max_queue=5, max_queue_per_client=2)
    submit(jobs, "ann", "ann1")
    submit(jobs, "ann", "ann2")
    with pytest.raises(QueueFull, match="you have 2 jobs waiting"):
        submit(jobs, "ann", "ann3")
    submit(jobs, "bo", "bo1")  # others still get in
    submit(jobs, "cy", "cy1")
    submit(jobs, "cy", "cy2")
    with pytest.raises(QueueFull, match="the queue is full"):
        submit(jobs, "dee", "dee1")


def test_the_owner_is_kept_across_a_restart(tmp_path):
    jobs = board(tmp_path)
    job = submit(jobs, "ann-key", "ann1")
    jobs.spool.release()
    again = board(tmp_path)
    assert again.restore()["resumed"] == 1
    assert again.get(job.id).client == "ann-key"
