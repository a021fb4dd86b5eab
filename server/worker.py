"""One worker thread per device: takes jobs from the board, runs the engine,
writes results to the spool, reports progress (throttled) and the ending.

torch releases the GIL in its kernels, so the ZeroMQ loop in the main
thread keeps answering while a job runs.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import numpy as np

from magic_client.protocol import BufferSpec, progress_event
from magic_common.phases import STARTING

from .engine_process import EngineCrashed, EngineProcessDied, EngineStartFailed
from .jobs import INTERRUPTED_MESSAGE, Job, JobBoard
from .spool import ResultsNotSaved, Spool, SpoolError

log = logging.getLogger(__name__)

RETRY_PAUSE_S = 1.0


def _finite_or_none(value):
    return round(value, 6) if isinstance(value, float) and math.isfinite(value) else None


class ProgressReporter:
    """Engine progress callback -> `progress` events, at most one per
    `interval` seconds (plus each phase's last step), with a preview image
    at most every `preview_interval` seconds."""

    def __init__(self, job: Job, emit, interval: float, preview_interval: float):
        self.job, self.emit = job, emit
        self.interval, self.preview_interval = interval, preview_interval
        self.last_sent = self.last_preview = -math.inf

    def __call__(self, p) -> None:
        now = time.monotonic()
        eta = None if p.eta_s is None else round(p.eta_s, 2)
        self.job.progress = {"phase": p.phase, "step": p.step, "total": p.total, "eta_s": eta, "at": now}
        preview_due = p.preview is not None and now - self.last_preview >= self.preview_interval
        if not (preview_due or p.step >= p.total or now - self.last_sent >= self.interval):
            return
        self.last_sent = now
        header = progress_event(self.job.id, p.phase, p.step, p.total, eta, round(p.elapsed_s, 2),
                                losses={k: _finite_or_none(float(v)) for k, v in p.losses.items()})
        buffers = []
        if preview_due:
            self.last_preview = now
            pixels = np.ascontiguousarray(p.preview, dtype=np.uint8)
            height, width = pixels.shape[:2]
            buffers.append((BufferSpec("preview", width, height, 3), pixels.tobytes()))
        self.emit(self.job.id, header, buffers)


class Worker(threading.Thread):
    def __init__(self, device: str, board: JobBoard, engine, spool: Spool, emit,
                 progress_interval: float = 0.25, preview_interval: float = 2.0, estimates=None):
        super().__init__(name=f"magic-worker-{device}", daemon=True)
        self.device, self.board, self.engine, self.spool = device, board, engine, spool
        self.emit = emit
        self.estimates = estimates  # server.estimates.Estimates, or None: no time estimates
        self.progress_interval, self.preview_interval = progress_interval, preview_interval

    def run(self) -> None:
        # Nothing a job, the engine or the disk does may end this loop: a
        # dead worker leaves every later job queued for ever.
        while not self.board.stopping:
            job = None
            try:
                job = self.board.take(self.device)
                if job is not None:
                    self.run_job(job)
                else:
                    self.run_probe()
            except Exception as exc:  # noqa: BLE001
                log.exception("worker %s: unexpected error%s", self.device, f" in job {job.id}" if job else "")
                if job is not None and not job.final:
                    self.board.finish_failed(job, f"the server failed running this job ({type(exc).__name__}: "
                                                  f"{exc}); see its log", "internal")
                time.sleep(RETRY_PAUSE_S)  # a lasting fault (a full disk) must not spin
        self.engine.release(self.device)

    def run_probe(self) -> None:
        """Measure one preset a client asked an estimate for, while there is no
        job; a job that arrives stops the probe (it is tried again when idle)."""
        preset = self.estimates.next_probe(self.device) if self.estimates is not None else None
        if preset is None:
            return
        started = time.monotonic()
        log.info("measuring preset %s on %s", preset, self.device)
        try:
            sample = self.engine.probe(preset, self.device, cancel=lambda: self.board.has_work_for(self.device))
        except self.engine.Cancelled:
            if not self.board.stopping:
                log.info("measuring preset %s on %s gave way to a job", preset, self.device)
            return
        except Exception:  # noqa: BLE001 - an estimate is never worth the worker
            log.exception("measuring preset %s on %s failed", preset, self.device)
            self.estimates.probe_failed(self.device, preset)
            return
        self.estimates.record_probe(self.device, preset, sample)
        log.info("preset %s measured on %s in %.1f s", preset, self.device, time.monotonic() - started)

    def run_job(self, job: Job) -> None:
        log.info("job %s started on %s (%dx%d, %s)", job.id, self.device, job.width, job.height, job.params)
        self.emit(job.id, progress_event(job.id, STARTING))
        reporter = ProgressReporter(job, self.emit, self.progress_interval, self.preview_interval)
        try:
            variants, report = self.engine.run_spooled(self.spool.root, job.id, job.width, job.height,
                                                       job.input_sizes(), job.params, self.device, reporter,
                                                       job.cancel_event)
        except SpoolError as exc:
            self.board.finish_failed(job, str(exc), "input_lost")
            return
        except ResultsNotSaved as exc:
            self.board.finish_failed(job, str(exc), "internal")
            return
        except self.engine.Cancelled:
            self._end_cancelled(job)
            return
        except self.engine.Error as exc:
            self.board.finish_failed(job, str(exc), exc.code)
            log.info("job %s failed (%s): %s", job.id, exc.code, exc)
            return
        except EngineProcessDied as exc:
            log.error("job %s: %s", job.id, exc)
            if job.interrupted:
                self.board.finish_failed(job, INTERRUPTED_MESSAGE, "interrupted")
                return
            self.board.finish_failed(job, f"{exc}. The server is still running; the next job gets a new engine "
                                          f"process.", exc.code)
            return
        except EngineStartFailed as exc:  # a new engine process (after one died) could not start
            log.error("job %s: %s", job.id, exc)
            if job.cancel_event.is_set():
                self._end_cancelled(job)
                return
            self.board.finish_failed(job, f"the engine could not be started again for this job: "
                                          f"{str(exc).rstrip('.')}. The server is still running; the next job "
                                          f"tries again.", exc.code)
            return
        except EngineCrashed as exc:  # its traceback is logged already
            self.board.finish_failed(job, *_describe_crash(str(exc), self.device))
            return
        except Exception as exc:  # noqa: BLE001 - a job must never take the server down
            log.exception("job %s crashed", job.id)
            self.board.finish_failed(job, *_describe_crash(f"{type(exc).__name__}: {exc}", self.device))
            return
        self.board.finish_done(job, variants, report)
        if self.estimates is not None:
            self.estimates.record_job(self.device, job.params, report)
        log.info("job %s done in %.1f s", job.id, report.get("total_seconds", float("nan")))


    def _end_cancelled(self, job: Job) -> None:
        if job.interrupted:
            self.board.finish_failed(job, INTERRUPTED_MESSAGE, "interrupted")
        else:
            self.board.finish_cancelled(job, job.message or "cancelled")
        log.info("job %s stopped: %s", job.id, job.message)


def _describe_crash(text: str, device: str) -> tuple:
    """An unexpected engine exception -> (message, failure code). torch says "out of
    memory" in its allocators' errors (CUDA, MPS and the CPU's)."""
    if "out of memory" in text.lower():
        return (f"out of memory on {device}: use a smaller preset, fewer variants or a smaller working size, "
                f"or crop the image closer to the object ({text[:200]})", "out_of_memory")
    return f"the engine failed unexpectedly on {device} ({text[:300]}); see the server log", "engine_error"
