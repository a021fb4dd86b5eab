"""What the server and an engine running elsewhere (its child process,
engine_process.py, or a Ray task, ray_backend.py) say to each other.

Each message is a small frozen dataclass, pickled across the child's pipe or
through Ray's object store; the receiver decides by its type. Requests go to
the engine, answers come back: from the child any number of `Progress`, then
one other answer; from a Ray task one answer (its progress travels through
ray_backend's JobNews actor).
"""

from __future__ import annotations

from dataclasses import dataclass, field


# --- requests ------------------------------------------------------------------
@dataclass(frozen=True)
class RunSpooled:
    """Run the job whose inputs are in the spool and write its results there (the child)."""

    spool_root: str
    job_id: str
    width: int
    height: int
    sizes: dict  # input name -> bytes, as the spool's manifest says
    params: dict


@dataclass(frozen=True)
class RunInputs:
    """Run a job on the input buffers that travel with the request (a Ray task)."""

    width: int
    height: int
    params: dict


@dataclass(frozen=True)
class Probe:
    """Measure a preset on the engine's device (magic_engine.estimate.probe)."""

    preset: str


@dataclass(frozen=True)
class Describe:
    """Say what classifier and device the engine has (a Ray worker's first task)."""


@dataclass(frozen=True)
class Stop:
    """End the child process."""


# --- answers -------------------------------------------------------------------
@dataclass(frozen=True)
class Ready:
    classifier_info: dict  # {"description", "warning"}
    device: str = ""  # the device's description, where the server cannot ask it (Ray)


@dataclass(frozen=True)
class StartFailed:
    text: str
    code: str  # a job failure code: weights_missing when the classifier's file is not there


@dataclass(frozen=True)
class Progress:
    fields: dict  # server.engine.progress_fields of a magic_engine.Progress


@dataclass(frozen=True)
class Saved:
    """The job ran and its results are in the spool."""

    variants: int
    report: dict


@dataclass(frozen=True)
class Results:
    """The job ran; its results travel with the answer (a Ray task cannot write the spool)."""

    layers: list  # RGBA bytes per variant
    edit_mask: bytes
    report: dict


@dataclass(frozen=True)
class Probed:
    sample: dict  # magic_engine.estimate.CostSample.to_dict()


@dataclass(frozen=True)
class Cancelled:
    text: str


@dataclass(frozen=True)
class Failed:
    """The engine refused or could not do the job (magic_engine.MagicError)."""

    text: str
    code: str  # the engine's failure code (magic_engine.errors)


@dataclass(frozen=True)
class Crashed:
    """Something unexpected was raised; the server logs the traceback."""

    text: str
    traceback: str = field(default="", repr=False)


@dataclass(frozen=True)
class InputLost:
    """The job's inputs could not be read from the spool."""

    text: str


@dataclass(frozen=True)
class NotSaved:
    """The results could not be written to the spool (a full disk)."""

    text: str
