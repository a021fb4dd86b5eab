"""Server job events -> (text, fraction) for GIMP's progress bar."""

from __future__ import annotations

from typing import Optional, Tuple

from magic_common.phases import MASK_NET, QUEUED, REFINE, STARTING, SYNTHESIS

# Share of the whole job each engine phase takes on the bar (the mask
# network trains for far fewer, cheaper steps than the synthesis; the
# refinement to full resolution takes seconds, one step per level).
PHASE_SPANS = {MASK_NET: (0.0, 0.1), SYNTHESIS: (0.1, 0.9), REFINE: (0.9, 1.0)}
PHASE_LABELS = {MASK_NET: "Learning the masks", SYNTHESIS: "Synthesising",
                REFINE: "Adding full-resolution detail, level"}
PHASES_WITH_ESTIMATE = (SYNTHESIS, REFINE)
TIME_BAR_MAX = 0.99  # the most a bar following the clock shows before the job ends
BAR_STEPS = 200  # a bar following the clock moves in steps of 0.5 %: GIMP is asked only when it moves


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def time_left_text(seconds: Optional[float]) -> str:
    """", about 1 min 05 s left", or "" when nothing is known; a measured
    estimate that has run out says so rather than counting below zero."""
    if seconds is None:
        return ""
    if seconds < 0:
        return ", taking longer than measured"
    return f", about {format_seconds(seconds)} left"


class JobEstimate:
    """The server's measured estimate for the whole job, counted down from
    `started` (the engine's start, once known): the time left in phases
    whose events carry no estimate of their own (starting, learning the masks)."""

    def __init__(self, seconds: Optional[float], started: float):
        self.seconds, self.started = seconds, started

    def left(self, now: float) -> Optional[float]:
        if self.seconds is None:
            return None
        return self.seconds - (now - self.started)


def _about_the_queue(event: dict) -> bool:
    """Whether `event` says where the job stands in the queue (its acceptance, or a move in the queue)."""
    return event.get("type") == "accepted" or (event.get("type") == "progress" and event.get("phase") == QUEUED)


def is_waiting(event: dict) -> bool:
    """Whether `event` says the job waits for others ahead of it."""
    return _about_the_queue(event) and bool(event.get("jobs_ahead"))


def is_shown(event: dict) -> bool:
    """Whether `event` changes the progress display (not heartbeats, not the final events)."""
    return _about_the_queue(event) or event.get("type") == "progress"


def waiting_text(ahead: int, wait: Optional[float], own: Optional[float]) -> str:
    """"waiting for 2 jobs ahead, about 3 min 10 s left": the wait and the job's own
    time together where both are known, else what is known."""
    text = f"MAGIC: waiting for {ahead} job{'s' if ahead != 1 else ''} ahead"
    if wait is None:
        return text
    if own is None:
        return f"{text}, about {format_seconds(max(0.0, wait))} until this one starts"
    return f"{text}{time_left_text(max(0.0, wait) + own)}"


def describe_event(event: dict, fallback_left: Optional[float] = None) -> Optional[Tuple[str, Optional[float]]]:
    """(text, fraction 0..1 or None for "unknown, pulse") for an event that
    should change the progress display; None for events that should not
    (heartbeats, final events). `fallback_left`: seconds left by the job's
    own estimate (JobEstimate), shown where the event has no estimate."""
    if not is_shown(event):
        return None
    extra = time_left_text(fallback_left)
    phase = event.get("phase") or ""
    if _about_the_queue(event):
        if is_waiting(event):
            return waiting_text(event["jobs_ahead"], event.get("wait_s"), fallback_left), None
        return (f"MAGIC: starting{extra}" if event.get("type") == "accepted" else "MAGIC: queued"), None
    if phase == STARTING:
        return f"MAGIC: starting the engine{extra}", None
    step, total = event.get("step") or 0, event.get("total") or 0
    label = PHASE_LABELS.get(phase, phase.replace("_", " ").capitalize() or "Working")
    text = f"MAGIC: {label} {step}/{total}" if total else f"MAGIC: {label}"
    eta = event.get("eta_s") if phase in PHASES_WITH_ESTIMATE else None
    text += time_left_text(eta if eta is not None else fallback_left)
    if not total:
        return text, None
    within = min(1.0, max(0.0, step / total))
    start, stop = PHASE_SPANS.get(phase, (0.0, 1.0))
    return text, start + (stop - start) * within


class ProgressView:
    """What the progress window shows, kept moving between the server's events
    (a finer level can take minutes): the time left counts down from the last
    estimate, and where the time left is known the bar is the share of the run
    gone by, elapsed / (elapsed + left), so it moves with the clock, not with
    phases of unequal length. The bar never moves back."""

    def __init__(self, estimate: JobEstimate):
        self.estimate = estimate  # the server's measured time for the job; its start is the engine's
        self.last: Optional[dict] = None  # the last event shown, and when it arrived
        self.arrived = 0.0
        self.fraction = 0.0

    def restart(self, now: float) -> None:
        """The engine has started: the job's time counts from here."""
        self.estimate = JobEstimate(self.estimate.seconds, now)

    def on_event(self, event: dict, now: float) -> Optional[Tuple[str, Optional[float]]]:
        """(text, fraction) for a new event, or None if it changes nothing shown."""
        if not is_shown(event):
            return None
        self.last, self.arrived = event, now
        return self.refresh(now)

    def refresh(self, now: float) -> Optional[Tuple[str, Optional[float]]]:
        """(text, fraction) for the last event, its time left counted down to `now`."""
        if self.last is None:
            return None
        event = dict(self.last)
        for counted_down in ("eta_s", "wait_s"):
            if event.get(counted_down) is not None:
                event[counted_down] = event[counted_down] - (now - self.arrived)
        # A job waiting for others has not started: all of its own time is still ahead.
        fallback = self.estimate.seconds if is_waiting(event) else self.estimate.left(now)
        text, fraction = describe_event(event, fallback)
        if fraction is None:
            return text, None
        left = event.get("eta_s") if event.get("phase") in PHASES_WITH_ESTIMATE else None
        left = fallback if left is None else left
        if left is not None:
            elapsed = now - self.estimate.started
            # Short of full while it runs: past its estimate a job is late, not done.
            fraction = min(TIME_BAR_MAX, elapsed / max(1e-6, elapsed + max(0.0, left)))
            fraction = round(fraction * BAR_STEPS) / BAR_STEPS
        self.fraction = max(self.fraction, min(1.0, fraction))
        return text, self.fraction
