"""Time estimates per preset (`estimate`): measured on the server's device by
probes while it is idle, then by real jobs, kept in the spool for the next
start, and carried to the region a client asks about."""

import json
import time

import pytest

from magic_client import ServerError
from magic_engine import make_config
from magic_engine.estimate import CostSample, predict_seconds
from server_fixtures import TINY, make_job_inputs

PRESETS = {"preview", "standard", "paper", "tiny"}


def wait_measured(client, width, height, timeout=240.0):
    deadline = time.monotonic() + timeout
    while True:
        reply = client.estimate(width, height)
        if not reply["measuring"]:
            return reply
        assert time.monotonic() < deadline, f"presets still not measured after {timeout} s: {reply}"
        time.sleep(0.5)


def test_prediction_carries_a_sample_to_other_regions_and_schedules():
    sample = CostSample(variants=3, fixed_s=5.0, seconds_per_step=0.1, refine_s=2.0, region_pixels=10_000)
    preview = make_config("preview")  # 300 iterations, 3 variants
    assert predict_seconds(sample, preview, 100, 100) == pytest.approx(5.0 + 300 * 0.1 + 2.0)
    assert predict_seconds(sample, preview, 200, 200) == pytest.approx(5.0 + 30.0 + 8.0)  # refinement x pixels
    longer = preview.replace(iterations=600, variants=6)
    assert predict_seconds(sample, longer, 100, 100) == pytest.approx(5.0 + 60.0 + 4.0)


def test_a_probe_keeps_each_part_at_its_fastest_run():
    from magic_engine.estimate import _fastest_parts

    calm = CostSample(variants=3, fixed_s=10.0, seconds_per_step=0.16, refine_s=0.6, region_pixels=25_000)
    paused_in_steps = CostSample(variants=3, fixed_s=9.0, seconds_per_step=2.2, refine_s=0.7, region_pixels=25_000)
    kept = _fastest_parts([paused_in_steps, calm])
    assert kept == CostSample(variants=3, fixed_s=9.0, seconds_per_step=0.16, refine_s=0.6, region_pixels=25_000)


def test_a_report_gives_its_sample():
    report = {"config": {"variants": 2}, "region": {"box": [4, 6, 50, 40]}, "start_seconds": 0.5,
              "mask_net_seconds": 1.5, "seconds_per_step": 0.25, "refine": {"seconds": 3.0}}
    sample = CostSample.from_report(report)
    assert sample == CostSample(variants=2, fixed_s=2.0, seconds_per_step=0.25, refine_s=3.0, region_pixels=2000)
    assert CostSample.from_dict(json.loads(json.dumps(sample.to_dict()))) == sample


@pytest.mark.slow
def test_estimates_are_measured_then_kept_and_updated_by_jobs(server_factory, tmp_path):
    spool = tmp_path / "spool"
    server = server_factory(spool=spool)
    with server.client() as client:
        first = client.estimate(200, 150)
        assert set(first["estimates"]) == PRESETS and first["device"] == "cpu"
        assert first["measuring"] and all(e["seconds"] is None for e in first["estimates"].values())
        measured = wait_measured(client, 200, 150)
        assert {e["basis"] for e in measured["estimates"].values()} == {"probe"}
        seconds = {name: e["seconds"] for name, e in measured["estimates"].items()}
        assert seconds["tiny"] < seconds["preview"] < seconds["standard"] < seconds["paper"], seconds
        assert seconds["paper"] > 10 * seconds["preview"], seconds  # 18,000 steps against 300
        assert measured["estimates"]["paper"]["variants"] == 5
        bigger = client.estimate(800, 600)["estimates"]
        assert all(bigger[name]["seconds"] > seconds[name] for name in PRESETS), (bigger, seconds)
        assert "preset preview measured on cpu" in server.log()

        # A real job replaces the probe's figure for its preset, and the
        # estimate for its own region is of the order of what it took.
        width, height = 160, 120
        image, source, target = make_job_inputs(width, height, source=(10, 10, 50, 50), target=(90, 40, 130, 80))
        started = time.monotonic()
        job = client.submit(width, height, image, source, target, params=dict(TINY, seed=1))
        result = client.wait(job, timeout=120)
        took = result.report["total_seconds"]
        assert time.monotonic() - started >= took
        region = result.report["region"]["box"]
        after = client.estimate(region[2], region[3])["estimates"]
        assert after["tiny"]["basis"] == "job" and after["preview"]["basis"] == "probe"
        assert 0.25 * took <= after["tiny"]["seconds"] <= 4 * took, (after["tiny"], took)

        # A job with its own schedule measures something else: no update.
        job = client.submit(width, height, image, source, target, params=dict(TINY, iterations=3, seed=2))
        client.wait(job, timeout=120)
        assert client.estimate(region[2], region[3])["estimates"]["tiny"] == after["tiny"]
    server.stop()

    kept = json.loads((spool / "timings.json").read_text())
    (key,) = kept
    assert "resnet18" in key and "cpu" in key.lower(), key
    restarted = server_factory(spool=spool)
    with restarted.client() as client:
        reply = client.estimate(200, 150)
        assert not reply["measuring"], "figures kept in the spool are used at once after a restart"
        # the probes' figures are shown at once, and measured again while the server is idle
        assert reply["estimates"]["preview"]["basis"] == "probe" and reply["estimates"]["preview"]["seconds"]


def test_a_failed_probe_is_not_retried_and_ends_the_measuring(tmp_path):
    from magic_server.estimates import Estimates

    book = Estimates(tmp_path, ["cpu"], lambda device: "key", lambda preset: make_config(preset),
                     ["preview", "paper"])
    assert book.estimate(100, 100)["measuring"] and book.next_probe("cpu") == "preview"
    book.probe_failed("cpu", "preview")
    book.record_probe("cpu", "paper", CostSample(5, 0.0, 0.5, 1.0, 10_000))
    reply = book.estimate(100, 100)
    assert not reply["measuring"] and book.next_probe("cpu") is None
    assert reply["estimates"]["preview"] == {"seconds": None, "basis": "failed", "variants": 3}
    assert reply["estimates"]["paper"]["basis"] == "probe"


def test_a_job_far_off_its_figure_has_the_other_presets_measured_again(tmp_path):
    from magic_server.estimates import Estimates

    book = Estimates(tmp_path, ["cpu"], lambda device: "key", lambda preset: make_config(preset),
                     ["preview", "standard", "paper"])
    for preset in ("preview", "standard", "paper"):  # probes taken while something else loaded the machine
        book.record_probe("cpu", preset, CostSample(3, 1.0, 0.5, 1.0, 10_000))
    figure = book.estimate(100, 100)["estimates"]["preview"]["seconds"]  # 1 + 300 x 0.5 + 1 = 152 s
    report = {"config": {"variants": 3}, "region": {"box": [0, 0, 100, 100]}, "start_seconds": 0.5,
              "mask_net_seconds": 0.5, "seconds_per_step": 0.1, "refine": {"seconds": 1.0}}
    book.record_job("cpu", {"preset": "preview"}, dict(report, total_seconds=0.6 * figure))  # within 2x
    assert book.next_probe("cpu") is None
    book.record_job("cpu", {"preset": "preview"}, dict(report, total_seconds=32.0))  # 32 s against 32 s: fine
    assert book.next_probe("cpu") is None
    book.record_probe("cpu", "preview", CostSample(3, 1.0, 0.5, 1.0, 10_000))
    book.record_job("cpu", {"preset": "preview"}, dict(report, total_seconds=32.0))  # 152 s said, 32 s taken
    assert book.next_probe("cpu") == "standard"
    book.record_probe("cpu", "standard", CostSample(3, 1.0, 0.1, 1.0, 10_000))
    assert book.next_probe("cpu") == "paper"
    assert book.estimate(100, 100)["estimates"]["preview"] == {"seconds": 32.0, "basis": "job", "variants": 3}


def test_a_start_measures_the_probes_again_and_keeps_the_jobs_figures(tmp_path):
    from magic_server.estimates import Estimates

    def start():
        return Estimates(tmp_path, ["cpu"], lambda device: "key", lambda preset: make_config(preset),
                         ["preview", "standard", "paper"])
    book = start()
    book.record_probe("cpu", "standard", CostSample(3, 1.0, 0.5, 1.0, 10_000))  # perhaps on a busy machine
    book.record_probe("cpu", "paper", CostSample(5, 1.0, 0.5, 1.0, 10_000))
    report = {"config": {"variants": 3}, "region": {"box": [0, 0, 100, 100]}, "start_seconds": 0.5,
              "mask_net_seconds": 0.5, "seconds_per_step": 0.1, "refine": {"seconds": 1.0}, "total_seconds": 32.0}
    book.record_job("cpu", {"preset": "preview"}, report)
    assert book.next_probe("cpu") is None
    again = start()
    assert again.next_probe("cpu") == "standard"  # the probes are taken again, in the presets' order
    reply = again.estimate(100, 100)
    assert not reply["measuring"] and reply["estimates"]["standard"]["basis"] == "probe"  # shown meanwhile
    again.record_probe("cpu", "standard", CostSample(3, 1.0, 0.1, 1.0, 10_000))
    assert again.next_probe("cpu") == "paper"
    again.record_probe("cpu", "paper", CostSample(5, 1.0, 0.1, 1.0, 10_000))
    assert again.next_probe("cpu") is None  # the job's figure is not measured again
    assert again.estimate(100, 100)["estimates"]["preview"]["basis"] == "job"


def test_a_queued_job_is_figured_with_its_own_variants_and_iterations(tmp_path):
    from magic_server.estimates import Estimates

    book = Estimates(tmp_path, ["cpu"], lambda device: "key", lambda preset: make_config(preset), ["preview"])
    book.record_probe("cpu", "preview", CostSample(3, 2.0, 0.1, 3.0, 10_000))
    assert book.seconds("preview", 100, 100) == pytest.approx(2.0 + 300 * 0.1 + 3.0)
    own = make_config("preview").replace(variants=6, iterations=900)  # what the job's params asked for
    assert book.seconds("preview", 100, 100, own) == pytest.approx(2.0 + 900 * 0.1 + 6.0)


@pytest.mark.slow
def test_a_job_never_waits_for_a_probe(server_factory):
    server = server_factory()
    with server.client() as client:
        client.estimate(200, 150)
        deadline = time.monotonic() + 60
        while "measuring preset preview on cpu" not in server.log():
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        image, source, target = make_job_inputs()
        job = client.submit(96, 72, image, source, target, params=dict(TINY, seed=3))
        assert len(client.wait(job, timeout=120).layers) == 2
        assert "preset preview on cpu gave way to a job" in server.log()
        reply = wait_measured(client, 200, 150)  # measured once the server is idle again
        assert reply["estimates"]["preview"]["basis"] == "probe"


@pytest.mark.slow
def test_a_corrupt_timings_file_is_measured_again(server_factory, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "timings.json").write_text('{"key": {"preview": {"sample": {"variants": "x"}}}}')
    server = server_factory(spool=spool)
    with server.client() as client:
        assert client.estimate(100, 100)["measuring"]
    assert "ignoring" in server.log() and "timings.json" in server.log()


@pytest.mark.parametrize("fields, code", [
    ({}, "bad_header"),
    ({"width": 100}, "bad_header"),
    ({"width": 100.5, "height": 100}, "bad_header"),
    ({"width": True, "height": 100}, "bad_header"),
    ({"width": 8, "height": 100}, "invalid_param"),
    ({"width": 20_000, "height": 20_000}, "invalid_param"),
    ({"width": 100, "height": 100, "preset": "tiny"}, "bad_header"),
])
def test_bad_estimate_requests_get_clear_errors(magic_server, fields, code):
    with magic_server.client() as client:
        with pytest.raises(ServerError) as error:
            client._request("estimate", fields)
        assert error.value.code == code
        assert client.hello()["protocol"] == 1  # the server carries on
