"""A corrupt spool, a full disk and a job report with NaN in it: the server
starts, keeps serving, and every job ends with a state a client can read.
Real server processes, real files; the full disk is a tmpfs mounted here."""

import json
import os
import shutil
import subprocess
import time

import pytest

from magic_client import JobFailed, ServerError
from server_fixtures import TINY, make_job_inputs

W, H = 64, 48


@pytest.fixture
def inputs():
    return make_job_inputs(W, H, (4, 4, 20, 20), (30, 20, 46, 36))


BAD_STATES = {  # job id -> what its state.json holds
    "20260101-000000-00000001": "[]",
    "20260101-000000-00000002": "null",
    "20260101-000000-00000003": '{"id": "20260101-000000-00000003", "width": 64, "height": 48, "params": {}, '
                                '"created": "yesterday"}',
    "20260101-000000-00000004": '{"id": "20260101-000000-00000004", "width": 64, "height": 48, "params": {}, '
                                '"variants": "x", "state": "done"}',
    "20260101-000000-00000005": '{"id": "20260101-000000-0000000',  # cut short
    "20260101-000000-00000006": '{"id": "20260101-000000-00000099", "width": 64, "height": 48, "params": {}}',
}


@pytest.mark.slow
def test_a_corrupt_spool_is_quarantined_and_the_server_starts(server_factory, tmp_path, inputs):
    spool = tmp_path / "spool"
    first = server_factory(tmp_path / "a", spool=spool)
    with first.client() as client:
        good = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
        client.wait(good, timeout=120)
    first.stop()
    for job_id, text in BAD_STATES.items():
        folder = spool / "jobs" / job_id
        folder.mkdir()
        (folder / "state.json").write_text(text)
    (spool / "jobs" / good / "result.tmp").mkdir()  # a result write a kill cut short

    second = server_factory(tmp_path / "b", spool=spool)
    with second.client() as client:
        assert [job["id"] for job in client.jobs()] == [good]
        quarantined = {entry["id"]: entry["reason"] for entry in client.quarantined()}
        assert set(quarantined) == set(BAD_STATES)
        assert "not a JSON object but list" in quarantined["20260101-000000-00000001"]
        assert "'created' is 'yesterday'" in quarantined["20260101-000000-00000003"]
        assert "'variants' is 'x'" in quarantined["20260101-000000-00000004"]
        assert "unreadable" in quarantined["20260101-000000-00000005"]
        assert "not its folder's" in quarantined["20260101-000000-00000006"]
        assert len(client.result(good).layers) == 2  # the good job is untouched
        again = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
        assert len(client.wait(again, timeout=120).layers) == 2
    assert sorted(p.name for p in (spool / "jobs").iterdir()) == sorted([good, again])
    assert len(list((spool / "quarantine").iterdir())) == len(BAD_STATES)
    assert not (spool / "jobs" / good / "result.tmp").exists()
    assert "quarantined" in second.log()


def _mount_tmpfs(path, size: str) -> bool:
    path.mkdir(parents=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                          capture_output=True)
    return done.returncode == 0


def _fill(folder) -> object:
    """Fill the file system of `folder` to the last byte -> the filler's path."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0")
        except OSError:
            pass
    return filler


@pytest.mark.slow
def test_a_full_disk_fails_the_job_and_the_server_recovers(server_factory, tmp_path, inputs):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "4m"):
        pytest.skip("mounting a tmpfs needs root and mount(8); the full-disk path is not tested here")
    try:
        server = server_factory(tmp_path / "a", spool=disk / "spool")
        with server.client() as client:
            running = client.submit(W, H, *inputs, params=dict(TINY, iterations=400))
            deadline = time.monotonic() + 60
            while client.status(running)["state"] != "running":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            filler = _fill(disk)
            with pytest.raises(JobFailed) as info:  # its results cannot be written
                client.wait(running, timeout=120)
            assert info.value.code == "internal" and "No space left" in str(info.value)
            with pytest.raises(ServerError) as refused:  # nor can a new submit's inputs
                client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
            assert refused.value.code == "internal" and "spool" in str(refused.value)
            assert client.hello()["protocol"] == 1
            filler.unlink()  # space is back
            later = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
            assert len(client.wait(later, timeout=120).layers) == 2
            assert client.status(running)["state"] == "failed"
        assert server.alive()
        assert not list((disk / "spool" / "jobs").glob("*/result.tmp"))
        server.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.slow
def test_results_over_the_size_cap_drop_the_fetched_ones_first(server_factory, tmp_path, inputs):
    one_result = W * H * (4 * 2 + 1)  # two RGBA layers and the edit mask
    cap_gb = 2.2 * one_result / 1e9  # room for two results, not three
    server = server_factory(tmp_path / "a", extra_args=["--max-results-gb", cap_gb])
    with server.client() as client:
        oldest = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
        deadline = time.monotonic() + 120
        while client.status(oldest)["state"] != "done":  # done, never fetched
            assert time.monotonic() < deadline
            time.sleep(0.1)
        fetched = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
        client.wait(fetched, timeout=120)  # wait() fetches the result
        newest = client.submit(W, H, *inputs, params=dict(TINY, iterations=2))
        client.wait(newest, timeout=120)
        deadline = time.monotonic() + 10
        while fetched in {job["id"] for job in client.jobs()}:
            assert time.monotonic() < deadline, "the cap never took effect"
            time.sleep(0.1)
        assert {job["id"] for job in client.jobs()} == {oldest, newest}
        assert len(client.result(oldest).layers) == 2  # the never-fetched older one was kept
    assert not (server.spool / "jobs" / fetched).exists()
    assert "results dropped to keep the spool under" in server.log()


@pytest.mark.slow
def test_the_log_file_is_rotated_by_size(server_factory, tmp_path, inputs):
    log = tmp_path / "logs" / "server.log"
    server = server_factory(tmp_path / "a", extra_args=["--log-file", log, "--log-max-mb", 0.001])  # ~1 KB
    with server.client() as client:
        for seed in range(8):  # a few lines each
            client.wait(client.submit(W, H, *inputs, params=dict(TINY, iterations=2, seed=seed)), timeout=120)
    server.stop()
    files = sorted(p.name for p in log.parent.iterdir())
    assert files == ["server.log", "server.log.1", "server.log.2", "server.log.3"], files
    for path in log.parent.iterdir():
        assert path.stat().st_size < 1024 + 1024, path  # one line past the limit at most
    everything = "".join(p.read_text() for p in log.parent.iterdir())
    assert "done in" in everything and "Traceback" not in everything
