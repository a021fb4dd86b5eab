"""Jobs and the job board: the bounded queue, the state machine, and the
only place that changes a job's state (and saves it to the spool).

    queued -> running -> done | failed | cancelled
    queued -> cancelled

The ZeroMQ loop and the device workers both call the board; a lock keeps
them apart. Every change is written to the spool before the matching event
is handed to `emit`, so what a client is told is always on disk.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

from magic_client.protocol import FINAL_STATES, job_input_specs

from .spool import Spool, Unreadable

log = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = "interrupted (server stopped during the job)"
# Who submitted a job: the user the server runs as (its plug-in, its scripts), or on a
# --curve server the public key of the designer's computer (security.py).
LOCAL_CLIENT = "local"


def new_job_id() -> str:
    """Sortable by submit time, unguessable enough to not collide."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(4)


class QueueFull(RuntimeError):
    pass


class BadState(ValueError):
    """A saved state.json that does not describe a job."""


_NUMBER = (int, float)
_OPTIONAL_NUMBER = (int, float, type(None))
_OPTIONAL_TEXT = (str, type(None))
# Saved field -> the types it may hold; "id", "width", "height", "params" must be there.
_STATE_TYPES = {"id": str, "width": int, "height": int, "params": dict, "created": _NUMBER,
                "cancel_if_silent_s": _OPTIONAL_NUMBER, "state": str, "started": _OPTIONAL_NUMBER,
                "finished": _OPTIONAL_NUMBER, "device": _OPTIONAL_TEXT, "message": str, "code": _OPTIONAL_TEXT,
                "variants": int, "report": (dict, type(None)), "fetched_at": _OPTIONAL_NUMBER, "client": str,
                "placement": (dict, type(None))}
_JOB_STATES = ("queued", "running") + tuple(FINAL_STATES)


def _state_problem(state) -> str | None:
    """What is wrong with a saved state, or None."""
    if not isinstance(state, dict):
        return f"not a JSON object but {type(state).__name__}"
    for name in ("id", "width", "height", "params"):
        if name not in state:
            return f"no {name!r}"
    for name, types in _STATE_TYPES.items():
        value = state.get(name)
        if name in state and (not isinstance(value, types) or isinstance(value, bool)):
            return f"{name!r} is {value!r}"
    if state.get("state", "queued") not in _JOB_STATES:
        return f"'state' is {state['state']!r}"
    if state["width"] < 1 or state["height"] < 1:
        return "the size is not positive"
    return None


@dataclass
class Job:
    id: str
    width: int
    height: int
    params: dict
    created: float = field(default_factory=time.time)
    cancel_if_silent_s: float | None = None
    state: str = "queued"
    started: float | None = None
    finished: float | None = None
    device: str | None = None  # the worker that ran it
    message: str = ""
    code: str | None = None
    variants: int = 0  # number of result layers, once done
    report: dict | None = None
    fetched_at: float | None = None
    client: str = LOCAL_CLIENT  # who submitted it: only they see it, and clients take turns in the queue
    placement: dict | None = None  # where the client's crop lies in its whole photo (given back with the result)
    # Live only (not saved):
    progress: dict = field(default_factory=dict)  # phase, step, total, eta_s
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    interrupted: bool = False  # cancelled because the server is stopping
    last_seen: float = field(default_factory=time.monotonic)  # last sign of life from a client
    owner: bytes | None = None  # ZeroMQ routing id of the submitter

    SAVED = ("id", "width", "height", "params", "created", "cancel_if_silent_s", "state", "started",
             "finished", "device", "message", "code", "variants", "report", "fetched_at", "client", "placement")

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def pinned_device(self):
        device = self.params.get("device")
        return None if device in (None, "auto") else device

    def input_sizes(self) -> dict:
        return {spec.name: spec.nbytes for spec in job_input_specs(self.width, self.height)}

    @property
    def result_bytes(self) -> int:
        """What its results take in the spool: the layers and the edit mask."""
        return self.width * self.height * (4 * self.variants + 1) if self.state == "done" else 0

    def to_state(self) -> dict:
        return {name: getattr(self, name) for name in self.SAVED}

    @classmethod
    def from_state(cls, state) -> "Job":
        """The job a saved state describes; BadState if it is not one."""
        problem = _state_problem(state)
        if problem:
            raise BadState(problem)
        return cls(**{name: state[name] for name in cls.SAVED if name in state})

    def summary(self, queue_position=None) -> dict:
        out = {name: getattr(self, name) for name in ("id", "state", "width", "height", "params", "created",
                                                     "started", "finished", "device", "message", "code",
                                                     "cancel_if_silent_s")}
        out["queue_position"] = queue_position
        out["cancel_requested"] = self.cancel_event.is_set() and not self.final
        out.update({k: self.progress.get(k) for k in ("phase", "step", "total", "eta_s")})
        if self.state == "done":
            out["variants"] = self.variants
            out["fetched"] = self.fetched_at is not None
        return out


class JobBoard:
    """The jobs, and the queue: clients take turns (one client's batch of twenty
    does not hold another's single job behind it), each client's jobs in the order
    they came."""

    def __init__(self, spool: Spool, max_queue: int, emit, max_queue_per_client: int | None = None):
        self.spool = spool
        self.max_queue = max_queue
        self.max_queue_per_client = max_queue_per_client or max_queue
        self.emit = emit  # emit(job_id, header_dict, buffers=()) -> thread-safe
        self.jobs: dict = {}
        self.queue: list = []  # ids of queued jobs, in the order they came
        self._turns = itertools.count()
        self._last_turn: dict = {}  # client -> when one of its jobs last started (a count)
        self.quarantined: list = []  # [{id, reason, moved_to}] of job folders the last start could not read
        self.cond = threading.Condition()
        self.stopping = False

    # --- start-up --------------------------------------------------------
    def restore(self) -> dict:
        """Load the spool after a (re)start. Running jobs were interrupted;
        queued ones go back in the queue in their old order."""
        counts = {"interrupted": 0, "resumed": 0, "kept": 0, "lost": 0, "quarantined": 0}
        loaded = []
        for job_id, state in self.spool.load_states():
            try:
                if isinstance(state, Unreadable):
                    raise BadState(f"unreadable ({state})")
                job = Job.from_state(state)
                if job.id != job_id:
                    raise BadState(f"its id {job.id!r} is not its folder's")
                loaded.append(job)
            except BadState as exc:
                self._quarantine(job_id, f"state.json: {exc}")
                counts["quarantined"] += 1
        for job in sorted(loaded, key=lambda job: job.created):
            if job.state == "running":
                self._set_final(job, "failed", INTERRUPTED_MESSAGE, "interrupted")
                counts["interrupted"] += 1
            elif job.state == "queued":
                if self._inputs_present(job):
                    self.queue.append(job.id)
                    counts["resumed"] += 1
                else:
                    self._set_final(job, "failed", "the job's inputs were lost from the spool", "input_lost")
                    counts["lost"] += 1
            elif job.state == "done" and not self.spool.has_result(job.id, job.width, job.height, job.variants):
                self._set_final(job, "failed", "the job's results were lost from the spool", "input_lost")
                counts["lost"] += 1
            else:
                counts["kept"] += 1
            self.jobs[job.id] = job
        return counts

    def _quarantine(self, job_id: str, reason: str) -> None:
        try:
            where = str(self.spool.quarantine(job_id))
        except OSError as exc:  # left where it is, and never read: the start goes on
            where = f"nowhere (could not be moved: {exc})"
        self.quarantined.append({"id": job_id, "reason": reason, "moved_to": where})
        log.warning("job %s quarantined (%s): moved to %s", job_id, reason, where)

    def _inputs_present(self, job: Job) -> bool:
        try:
            self.spool.load_inputs(job.id, job.input_sizes())
        except Exception:  # noqa: BLE001 - any failure means the inputs are unusable
            return False
        return True

    # --- queue -----------------------------------------------------------
    def add(self, job: Job, inputs: dict) -> int:
        """Save the job's inputs and state, queue it -> queue position."""
        with self.cond:
            if len(self.queue) >= self.max_queue:
                raise QueueFull(f"the queue is full ({self.max_queue} jobs waiting); try again when some finish")
            waiting = sum(1 for job_id in self.queue if self.jobs[job_id].client == job.client)
            if waiting >= self.max_queue_per_client:
                raise QueueFull(f"you have {waiting} jobs waiting, as many as this server queues for one client; "
                                f"try again when some finish")
            try:
                self.spool.save_inputs(job.id, inputs)
                self.spool.save_state(job.id, job.to_state())
            except BaseException:
                self.spool.delete(job.id)
                raise
            self.jobs[job.id] = job
            self.queue.append(job.id)
            self.cond.notify_all()
            return self._fair_order().index(job.id)

    def _fair_order(self, newcomer: str | None = None) -> list:
        """The queued job ids in the order they start: the clients take turns, the one
        whose job started longest ago (or never) first, each with its oldest job.
        `newcomer`: a client whose next job is placed too, as None."""
        per_client: dict = {}
        for job_id in self.queue:
            per_client.setdefault(self.jobs[job_id].client, []).append(job_id)
        if newcomer is not None:
            per_client.setdefault(newcomer, []).append(None)
        turns = sorted(per_client, key=lambda client: self._last_turn.get(client, -1))  # stable: first come first
        rounds = itertools.zip_longest(*(per_client[client] for client in turns), fillvalue=False)
        return [job_id for one_each in rounds for job_id in one_each if job_id is not False]

    def position_of_next(self, client: str) -> int:
        """The queue position a new job of `client` would get: the jobs that would start before it."""
        with self.cond:
            return self._fair_order(newcomer=client).index(None)

    def queue_position(self, job_id: str):
        return self.queue_positions().get(job_id)

    def queue_positions(self) -> dict:
        with self.cond:
            return {job_id: i for i, job_id in enumerate(self._fair_order())}

    def has_work_for(self, device: str) -> bool:
        """A queued job this device could run (a probe then gives way to it)."""
        with self.cond:
            return self.stopping or any(self.jobs[job_id].pinned_device in (None, device) for job_id in self.queue)

    def take(self, device: str, timeout: float = 0.5):
        """Next queued job this device may run, marked running; None if none
        came within `timeout` or the board is stopping."""
        with self.cond:
            deadline = time.monotonic() + timeout
            while not self.stopping:
                for job_id in self._fair_order():
                    job = self.jobs[job_id]
                    if job.pinned_device in (None, device):
                        self.queue.remove(job_id)
                        self._last_turn[job.client] = next(self._turns)
                        job.state, job.started, job.device = "running", time.time(), device
                        self._save(job)
                        return job
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return None

    # --- endings ---------------------------------------------------------
    def _save(self, job: Job) -> None:
        """Save a running or finished job's state. A failed save (a full disk) is
        logged, not raised: the state lives on in memory, clients are still told,
        and the next change tries to save again."""
        try:
            self.spool.save_state(job.id, job.to_state())
        except OSError as exc:
            log.error("the state of job %s could not be saved to the spool (%s); kept in memory", job.id, exc)

    def _set_final(self, job: Job, state: str, message: str = "", code: str | None = None) -> None:
        job.state, job.message, job.code, job.finished = state, message, code, time.time()
        self._save(job)
        self.spool.drop_inputs(job.id)

    def finish_done(self, job: Job, variants: int, report: dict) -> None:
        """Results are already in the spool; record that, then tell watchers."""
        with self.cond:
            job.variants, job.report = variants, report
            self._set_final(job, "done")
        self.emit(job.id, {"type": "done", "job": job.id, "width": job.width, "height": job.height,
                           "variants": variants, "report": report})

    def finish_failed(self, job: Job, message: str, code: str) -> None:
        with self.cond:
            self._set_final(job, "failed", message, code)
        self.emit(job.id, {"type": "failed", "job": job.id, "code": code, "message": message})

    def finish_cancelled(self, job: Job, message: str) -> None:
        with self.cond:
            self._set_final(job, "cancelled", message)
        self.emit(job.id, {"type": "cancelled", "job": job.id, "message": message})

    def cancel(self, job: Job, reason: str) -> None:
        """Queued: cancelled now. Running: the worker stops at the next step."""
        with self.cond:
            if job.final:
                return
            if job.state == "queued":
                self.queue.remove(job.id)
                queued = True
            else:
                job.message = reason
                job.cancel_event.set()
                queued = False
        if queued:
            self.finish_cancelled(job, reason)

    def stop(self) -> None:
        """Stop handing out jobs and interrupt running ones; queued jobs stay
        queued in the spool and resume at the next start."""
        with self.cond:
            self.stopping = True
            for job in self.jobs.values():
                if job.state == "running":
                    job.interrupted = True
                    job.cancel_event.set()
            self.cond.notify_all()

    def mark_fetched(self, job: Job) -> None:
        with self.cond:
            if job.fetched_at is None:
                job.fetched_at = time.time()
                self._save(job)

    def expire(self, keep_results_s: float, keep_fetched_s: float, max_result_bytes: int | None = None) -> list:
        """Forget finished jobs whose time is up, then, while the results kept
        exceed `max_result_bytes`, the fetched ones (longest fetched first), then
        unfetched ones (oldest first) -> their ids."""
        now = time.time()
        gone = []
        with self.cond:
            for job in list(self.jobs.values()):
                if not job.final:
                    continue
                fetched_expired = job.fetched_at is not None and now - job.fetched_at > keep_fetched_s
                if fetched_expired or now - (job.finished or job.created) > keep_results_s:
                    self._forget(job)
                    gone.append(job.id)
            if max_result_bytes is not None:
                kept = [job for job in self.jobs.values() if job.state == "done"]
                total = sum(job.result_bytes for job in kept)
                kept.sort(key=lambda job: (job.fetched_at is None, job.fetched_at or job.finished or job.created))
                for job in kept:
                    if total <= max_result_bytes:
                        break
                    total -= job.result_bytes
                    log.info("job %s: results dropped to keep the spool under %d bytes%s", job.id,
                             max_result_bytes, "" if job.fetched_at else " (never fetched)")
                    self._forget(job)
                    gone.append(job.id)
        return gone

    def _forget(self, job: Job) -> None:
        del self.jobs[job.id]
        self.spool.delete(job.id)

    def active(self) -> list:
        with self.cond:
            return [job for job in self.jobs.values() if not job.final]

    def get(self, job_id: str):
        with self.cond:
            return self.jobs.get(job_id)

    def all(self) -> list:
        with self.cond:
            return sorted(self.jobs.values(), key=lambda job: job.created)
