"""Server events -> progress text and fraction."""

from __future__ import annotations

from magic_gimp_core.progress import JobEstimate, ProgressView, describe_event, format_seconds


def progress(phase, step, total, eta=None, **extra):
    return dict(type="progress", job="j", phase=phase, step=step, total=total, eta_s=eta, **extra)


def test_synthesis_steps_fill_the_bar_after_the_mask_net():
    text, fraction = describe_event(progress("mask_net", 100, 200))
    assert text == "MAGIC: Learning the masks 100/200" and fraction == 0.05
    text, fraction = describe_event(progress("synthesis", 150, 300, eta=75.4))
    assert text == "MAGIC: Synthesising 150/300, about 1 min 15 s left"
    assert fraction == 0.1 + 0.8 * 0.5
    assert describe_event(progress("synthesis", 300, 300))[1] == 0.9
    text, fraction = describe_event(progress("refine", 1, 2, eta=3))
    assert text == "MAGIC: Adding full-resolution detail, level 1/2, about 3 s left" and fraction == 0.95
    assert describe_event(progress("refine", 2, 2))[1] == 1.0


def test_waiting_states_pulse_and_say_how_many_jobs_are_ahead():
    assert describe_event({"type": "accepted", "queue_position": 0, "jobs_ahead": 1, "wait_s": None}) == (
        "MAGIC: waiting for 1 job ahead", None)
    assert describe_event({"type": "accepted", "queue_position": 1, "jobs_ahead": 2}) == (
        "MAGIC: waiting for 2 jobs ahead", None)
    assert describe_event(progress("queued", 0, 0, queue_position=0, jobs_ahead=2, wait_s=65)) == (
        "MAGIC: waiting for 2 jobs ahead, about 1 min 05 s until this one starts", None)
    assert describe_event(progress("queued", 0, 0, queue_position=0, jobs_ahead=2, wait_s=65), 30) == (
        "MAGIC: waiting for 2 jobs ahead, about 1 min 35 s left", None)
    assert describe_event({"type": "accepted", "queue_position": 0, "jobs_ahead": 0, "wait_s": 0.0}, 88) == (
        "MAGIC: starting, about 1 min 28 s left", None)
    assert describe_event(progress("starting", 0, 0)) == ("MAGIC: starting the engine", None)


def test_a_waiting_job_counts_down_the_wait_and_keeps_its_own_time_whole():
    view = ProgressView(JobEstimate(60.0, 0.0))
    assert view.on_event({"type": "accepted", "queue_position": 0, "jobs_ahead": 1, "wait_s": 90.0}, 0.0) == (
        "MAGIC: waiting for 1 job ahead, about 2 min 30 s left", None)
    assert view.refresh(30.0) == ("MAGIC: waiting for 1 job ahead, about 2 min 00 s left", None)


def test_unknown_phases_still_show_their_steps():
    assert describe_event(progress("upscaling", 1, 4)) == ("MAGIC: Upscaling 1/4", 0.25)


def test_events_that_do_not_change_the_display():
    view = ProgressView(JobEstimate(60.0, 0.0))
    for event in ({"type": "heartbeat", "state": "running"}, {"type": "done"}, {"type": "failed", "message": "x"}):
        assert describe_event(event) is None and view.on_event(event, 1.0) is None


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 59.4, 61, 3600 + 120)] == ["0 s", "59 s", "1 min 01 s", "1 h 02 min"]


def test_phases_without_their_own_estimate_count_down_the_servers():
    from magic_gimp_core.progress import JobEstimate

    job = JobEstimate(90.0, started=100.0)
    assert job.left(130.0) == 60.0
    text, fraction = describe_event(progress("mask_net", 100, 200), job.left(130.0))
    assert text == "MAGIC: Learning the masks 100/200, about 1 min 00 s left" and fraction == 0.05
    assert describe_event({"type": "accepted", "queue_position": None}, 88) == ("MAGIC: starting, about 1 min 28 s left",
                                                                                None)
    assert describe_event(progress("starting", 0, 0), 5)[0] == "MAGIC: starting the engine, about 5 s left"
    # The engine's own estimate wins once it has one.
    assert describe_event(progress("synthesis", 150, 300, eta=20), 60)[0].endswith("about 20 s left")
    assert describe_event(progress("mask_net", 1, 2), job.left(200.0))[0].endswith("taking longer than measured")
    assert JobEstimate(None, 0.0).left(5.0) is None
    assert describe_event(progress("mask_net", 1, 2), None)[0] == "MAGIC: Learning the masks 1/2"


def test_the_time_left_counts_down_between_events_and_the_bar_follows_the_clock():
    view = ProgressView(JobEstimate(None, 0.0))
    assert view.refresh(1.0) is None
    view.restart(10.0)  # the engine starts 10 s after the upload
    text, fraction = view.on_event(progress("synthesis", 30, 300, eta=90), 20.0)
    assert text == "MAGIC: Synthesising 30/300, about 1 min 30 s left" and fraction == 10 / 100
    text, fraction = view.refresh(50.0)  # no event for 30 s: the display still moves
    assert text == "MAGIC: Synthesising 30/300, about 1 min 00 s left" and fraction == 40 / 100
    # A finer level whose estimate is longer than the last one's: the bar does not move back.
    text, fraction = view.on_event(progress("refine", 1, 3, eta=200), 60.0)
    assert text.endswith("about 3 min 20 s left") and fraction == 40 / 100
    assert view.refresh(310.0) == ("MAGIC: Adding full-resolution detail, level 1/3, taking longer than measured",
                                   0.99)
    assert view.on_event({"type": "heartbeat", "state": "running"}, 311.0) is None


def test_without_any_estimate_the_bar_follows_the_phases():
    view = ProgressView(JobEstimate(None, 0.0))
    assert view.on_event(progress("mask_net", 100, 200), 5.0) == ("MAGIC: Learning the masks 100/200", 0.05)
    assert view.on_event(progress("starting", 0, 0), 6.0) == ("MAGIC: starting the engine", None)
