"""A real server on 127.0.0.1: hello, a full job round trip with progress,
queue positions, and results that only change the edited area."""

import json
import os
import stat

import pytest

from magic_client import MagicClient, ServerError
from server_fixtures import TINY, make_job_inputs


@pytest.fixture
def client(magic_server):
    with magic_server.client() as c:
        yield c


def test_runtime_file_is_private_and_names_this_server(magic_server):
    mode = stat.S_IMODE(os.stat(magic_server.runtime_file).st_mode)
    assert mode == 0o600
    info = magic_server.runtime_info()
    assert info["pid"] == magic_server.pid
    assert info["protocol"] == 1
    assert info["endpoint"].startswith("tcp://127.0.0.1:") and not info["endpoint"].endswith(":0")
    assert len(info["token"]) >= 32


def test_hello_describes_what_the_server_offers(client):
    info = client.hello()
    assert info["protocol"] == 1
    assert [d["name"] for d in info["devices"]] == ["cpu"]
    assert info["classifiers"][0]["name"] == "random:resnet18"
    assert "UNTRAINED" in info["classifiers"][0]["warning"]
    assert set(info["presets"]) >= {"tiny", "preview", "standard", "paper"}
    assert info["modes"] == ["position", "shape", "scene"]
    assert info["region_rule"] == {"context_margin": 0.25, "min_context": 16, "fill_reach": 1.0}
    assert info["limits"]["max_pixels"] == 100_000_000


def test_full_round_trip_with_progress(client):
    width, height = 96, 72
    image, source, target = make_job_inputs(width, height)
    job = client.submit(width, height, image, source, target, params=dict(TINY, variants=2, seed=5))
    events = []
    result = client.wait(job, on_event=events.append, timeout=120)

    kinds = [e["type"] for e in events]
    assert kinds[0] == "accepted" and kinds[-1] == "done"
    assert (events[0]["jobs_ahead"], events[0]["wait_s"]) == (0, 0.0)  # an idle server: nothing ahead, not itself
    progress = [e for e in events if e["type"] == "progress" and e["phase"] == "synthesis"]
    assert progress, kinds
    assert progress[-1]["step"] == progress[-1]["total"] == 12
    assert set(progress[-1]["losses"]) >= {"total", "class"}
    assert any("preview" in e for e in events)
    preview = next(e["preview"] for e in events if "preview" in e)
    assert len(preview["rgb"]) == preview["width"] * preview["height"] * 3 and max(preview["width"],
                                                                                   preview["height"]) <= 160

    assert (result.width, result.height, len(result.layers)) == (width, height, 2)
    assert result.params["seed"] == 5
    assert result.report["config"]["preset"] == "tiny" and result.report["total_seconds"] > 0
    json.dumps(result.report)
    mask = result.edit_mask
    assert len(mask) == width * height and any(mask) and not all(mask)
    for layer in result.layers:
        assert len(layer) == width * height * 4
        assert set(layer[3::4]) == {255}  # opaque input -> opaque RGBA result
        for i in range(width * height):  # outside the edit mask the input is untouched
            if mask[i] == 0:
                assert layer[4 * i:4 * i + 4] == image[4 * i:4 * i + 4]
    assert result.layers[0] != result.layers[1]

    status = client.status(job)
    assert status["state"] == "done" and status["fetched"] and status["variants"] == 2
    again = client.result(job)  # kept after the first fetch (for --keep-fetched seconds)
    assert again.layers == result.layers


def test_transparent_input_keeps_its_alpha_outside_the_edit(client):
    width, height = 64, 64
    image, source, target = make_job_inputs(width, height, (8, 8, 24, 24), (36, 36, 52, 52), opaque=False)
    result = client.wait(client.submit(width, height, image, source, target, params=dict(TINY, variants=1)),
                         timeout=120)
    layer, mask = result.layers[0], result.edit_mask
    outside = [i for i in range(width * height) if mask[i] == 0]
    assert all(layer[4 * i + 3] == image[4 * i + 3] for i in outside)


def _events_until(client, job, kind, timeout_s=60):
    import time

    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen += client.poll(job, timeout_ms=100)
        if any(e["type"] == kind for e in seen):
            return seen
    raise AssertionError(f"no {kind!r} event for {job} in {timeout_s} s: {seen}")


def test_queued_jobs_report_their_position(client):
    width, height = 64, 48
    image, source, target = make_job_inputs(width, height, (4, 4, 20, 20), (30, 20, 46, 36))
    blocker = client.submit(width, height, image, source, target, params=dict(TINY, iterations=2000))
    _events_until(client, blocker, "progress")
    assert client.status(blocker)["state"] == "running"
    jobs = [client.submit(width, height, image, source, target, params=dict(TINY, iterations=3))
            for _ in range(3)]
    accepted = [next(e for e in _events_until(client, job, "accepted") if e["type"] == "accepted")
                for job in jobs]
    assert [e["queue_position"] for e in accepted] == [0, 1, 2]
    assert [e["jobs_ahead"] for e in accepted] == [1, 2, 3]  # the running blocker counts too
    waits = [e["wait_s"] for e in accepted]  # null while a job ahead has no estimate yet
    known = [w for w in waits if w is not None]
    assert known == sorted(known) and all(w >= 0 for w in known), waits
    assert [client.status(job)["queue_position"] for job in jobs] == [0, 1, 2]

    client.cancel(blocker)
    positions = {job: [] for job in jobs}
    results = [client.wait(job, on_event=lambda e, job=job: positions[job].append(e.get("queue_position")),
                           timeout=120) for job in jobs]
    # the last job moved up one place at a time (told by "queued" progress events and heartbeats)
    last = [p for p in positions[jobs[2]] if p is not None]
    assert last == sorted(last, reverse=True) and {1, 0} <= set(last), last
    assert all(r.width == width for r in results)
    listed = {j["id"]: j for j in client.jobs()}
    assert [listed[job]["state"] for job in jobs] == ["done"] * 3
    assert listed[blocker]["state"] == "cancelled"


def test_result_of_unknown_or_unfinished_job_is_a_clear_error(client):
    with pytest.raises(ServerError) as info:
        client.result("20000101-000000-00000000")
    assert info.value.code == "unknown_job"
    width, height = 64, 48
    image, source, target = make_job_inputs(width, height, (4, 4, 20, 20), (30, 20, 46, 36))
    job = client.submit(width, height, image, source, target, params=dict(TINY, iterations=400))
    with pytest.raises(ServerError) as info:
        client.result(job)
    assert info.value.code == "not_ready"
    client.cancel(job)


def test_engine_errors_come_back_as_failed_with_the_engines_words(client):
    from magic_client import JobFailed

    width, height = 64, 48
    image, source, _ = make_job_inputs(width, height)
    empty = bytes(width * height)
    job = client.submit(width, height, image, source, empty, params=TINY)
    with pytest.raises(JobFailed) as info:
        client.wait(job, timeout=60)
    assert info.value.code == "bad_input"  # the engine refused the inputs: its words say which
    assert "target mask is empty" in str(info.value)
    with pytest.raises(ServerError) as info:
        client.result(job)
    assert info.value.code == "job_failed"


def test_a_second_client_sees_the_same_jobs(magic_server, client):
    with MagicClient.connect(magic_server.runtime_file) as other:
        assert {j["id"] for j in other.jobs()} == {j["id"] for j in client.jobs()}


def test_a_placement_is_checked_kept_and_given_back(magic_server):
    image, source, target = make_job_inputs(96, 72)
    with magic_server.client() as client:
        placement = {"left": 100, "top": 40, "width": 400, "height": 300}
        job = client.submit(96, 72, image, source, target, params=TINY, placement=placement)
        assert client.wait(job, timeout=120).placement == placement
        for bad, code in (({"left": -1, "top": 0, "width": 400, "height": 300}, "invalid_param"),
                          ({"left": 350, "top": 0, "width": 400, "height": 300}, "invalid_param"),  # does not fit
                          ({"left": "1", "top": 0, "width": 400, "height": 300}, "bad_header"),
                          ({"left": 1, "top": 0}, "bad_header")):
            with pytest.raises(ServerError) as info:
                client.submit(96, 72, image, source, target, params=TINY, placement=bad)
            assert info.value.code == code, bad
