"""Each device's engine in a child process of its own, so that what kills a
process (a segfault in a kernel, the kernel's out-of-memory killer, an
abort in a driver) kills a job, never the server.

The parent (the device's worker thread) sends one request at a time over a
pipe and waits for its answer, passing progress on as it arrives; it sets
a shared event to cancel, and notices a dead child within POLL_S. A dead
child fails its job with a message that says what happened, and the next
request starts a new one (the classifier loads again: seconds).

    parent -> child   RunSpooled, Probe, Stop
    child -> parent   Ready or StartFailed once; then per request any number
                      of Progress and one of Saved, Probed, Cancelled, Failed,
                      Crashed, InputLost, NotSaved
                      (the messages are engine_messages.py's)

Pixels never cross the pipe: the child reads a job's inputs from the spool
and writes its results there (the parent keeps the spool's lock and every
state change), which keeps a 12-megapixel job's overhead at file speed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time

from . import engine_messages as msg

log = logging.getLogger(__name__)

POLL_S = 0.1
ORPHAN_CHECK_S = 1.0  # how often the child checks that its server is still there
START_TIMEOUT_S = 600.0  # importing torch and loading a classifier from a slow disk
STOP_TIMEOUT_S = 10.0


class EngineProcessDied(RuntimeError):
    """The child (or a Ray worker) ended in the middle of a request; the text says how."""

    def __init__(self, message: str, code: str = "engine_error"):
        super().__init__(message)
        self.code = code  # out_of_memory where that is known to be the cause


class EngineStartFailed(RuntimeError):
    def __init__(self, message: str, code: str = "engine_error"):
        super().__init__(message)
        self.code = code  # a job failure code: weights_missing when the classifier's file is not there


class EngineCrashed(RuntimeError):
    """The engine raised something unexpected; the text names it (its traceback is logged)."""


def describe_exit(code) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return (f"the engine process was killed ({name}), most often by the system running out of memory: use "
                    f"a smaller preset, fewer variants or a smaller area, or close other programs")
        return f"the engine process crashed ({name})"
    return f"the engine process exited with code {code}"


# --- the child ---------------------------------------------------------------
def _exit_when_orphaned(parent: int) -> None:
    """A server killed outright cannot stop this process: it stops itself,
    also in the middle of a long step that sends no progress."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    os._exit(1)


def _child_main(conn, cancel_event, classifier_spec: str, device: str, parent: int) -> None:
    # A terminal's Ctrl-C reaches the whole process group: stopping is the
    # server's to handle (it ends the job as interrupted, then stops this process).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s magic_server[engine %(process)d] %(levelname)s "
                                                   "%(message)s")
    from magic_engine.errors import failure_code

    from .engine import Engine

    try:
        try:
            engine = Engine(classifier_spec, [device])
        except Exception as exc:  # noqa: BLE001 - the parent reports it in words
            conn.send(msg.StartFailed(f"{type(exc).__name__}: {exc}", failure_code(exc)))
            return
        device = engine.devices[0]  # resolved here ("auto" -> "cuda:0"), as the parent resolves it
        conn.send(msg.Ready(engine.classifier_info))
    except (BrokenPipeError, EOFError, OSError):
        return  # the server gave up on this start
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if isinstance(request, msg.Stop):
            return
        cancel_event.clear()
        try:
            conn.send(_serve(engine, device, request, conn, cancel_event))
        except (BrokenPipeError, EOFError, OSError):
            return


def _serve(engine, device, request, conn, cancel_event):
    from .engine import answer_for, probe_answer, progress_fields

    def progress(p):
        conn.send(msg.Progress(progress_fields(p)))

    try:
        if isinstance(request, msg.RunSpooled):
            return _run_spooled(engine, device, request, progress, cancel_event)
        if isinstance(request, msg.Probe):
            return probe_answer(engine, request.preset, device, cancel_event.is_set)
        return msg.Crashed(f"unknown request {request!r}")
    except Exception as exc:  # noqa: BLE001 - described (and logged, with its traceback) by the parent
        return answer_for(exc)


def _run_spooled(engine, device, request: msg.RunSpooled, progress, cancel_event):
    from .spool import ResultsNotSaved, Spool, SpoolError

    spool = Spool(request.spool_root)  # the parent holds its lock; this process only reads and writes the job's files
    try:
        inputs = spool.load_inputs(request.job_id, request.sizes)
    except SpoolError as exc:
        return msg.InputLost(str(exc))
    out = engine.run(request.width, request.height, inputs, request.params, device, progress, cancel_event.is_set)
    del inputs
    try:
        spool.save_result(request.job_id, out.layers, out.edit_mask, out.report)
    except ResultsNotSaved as exc:
        return msg.NotSaved(str(exc))
    return msg.Saved(len(out.layers), out.report)


# --- the parent --------------------------------------------------------------
class EngineProcess:
    """One device's engine child. Not thread-safe: one worker thread uses it."""

    def __init__(self, classifier_spec: str, device: str):
        self.classifier_spec, self.device = classifier_spec, device
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded, CUDA-using parent
        self.process = None
        self.conn = None
        self.cancel_event = self._context.Event()

    def start(self, cancelled=None) -> dict:
        """Start the child and wait until its classifier is loaded -> classifier_info."""
        self.launch()
        return self.wait_ready(cancelled)

    def launch(self) -> None:
        """Start the child without waiting: the server's own start (importing
        torch for the offer) then overlaps the child's (torch and the classifier)."""
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(target=_child_main, name=f"magic-engine-{self.device}",
                                        args=(child_end, self.cancel_event, self.classifier_spec, self.device,
                                              os.getpid()),
                                        daemon=True)
        process.start()
        child_end.close()
        self.process, self.conn = process, parent_end

    def wait_ready(self, cancelled=None) -> dict:
        """-> classifier_info once the child has loaded it. Raises
        EngineStartFailed, also when `cancelled()` turns true meanwhile."""
        process, parent_end = self.process, self.conn
        deadline = time.monotonic() + START_TIMEOUT_S
        while not parent_end.poll(POLL_S):
            if cancelled is not None and cancelled():
                self.close(force=True)
                raise EngineStartFailed(f"cancelled while the engine process for {self.device} was starting")
            if not process.is_alive():
                break  # reported below, as an answer that never came
            if time.monotonic() > deadline:
                self.close()
                raise EngineStartFailed(f"the engine process for {self.device} did not start in "
                                        f"{START_TIMEOUT_S:g} s")
        try:
            answer = parent_end.recv()
        except (EOFError, OSError):
            process.join(STOP_TIMEOUT_S)
            code = process.exitcode
            self._reap()
            raise EngineStartFailed(f"the engine process for {self.device} ended while starting "
                                    f"({describe_exit(code)})") from None
        if not isinstance(answer, msg.Ready):
            self._reap()
            raise EngineStartFailed(answer.text, answer.code)
        log.info("engine process %d runs %s", process.pid, self.device)
        return answer.classifier_info

    def _reap(self) -> None:
        if self.process is not None:
            self.process.join(1.0)
        if self.conn is not None:
            self.conn.close()
        self.process, self.conn = None, None

    def request(self, message, on_progress=None, cancelled=None):
        """Send `message` and wait for its answer (progress passed to
        on_progress on the way). Raises EngineProcessDied if the child ends.
        A request left any other way (an exception here) costs the child: an
        answer to it must never be read as the answer to the next request."""
        if self.process is None or not self.process.is_alive():
            if self.process is not None:
                log.warning("engine process for %s was gone (%s); starting a new one", self.device,
                            describe_exit(self.process.exitcode))
                self._reap()
            self.start(cancelled)
        self.cancel_event.clear()
        try:
            return self._exchange(message, on_progress, cancelled)
        except EngineProcessDied:
            raise
        except BaseException:
            self.close(force=True)
            raise

    def _exchange(self, message, on_progress, cancelled):
        try:
            self.conn.send(message)
        except OSError:  # the child died just now: reported below
            pass
        while True:
            # Checked before every message: a job sends progress faster than POLL_S.
            if cancelled is not None and not self.cancel_event.is_set() and cancelled():
                self.cancel_event.set()
            if self.conn.poll(POLL_S):
                try:
                    answer = self.conn.recv()
                except (EOFError, OSError):
                    answer = None
                if answer is None:  # the child closed its end: wait for it to exit, then say how
                    self.process.join(STOP_TIMEOUT_S)
                    if self.process.is_alive():
                        self.process.kill()
                        self.process.join(STOP_TIMEOUT_S)
                elif isinstance(answer, msg.Progress):
                    if on_progress is not None:
                        on_progress(answer.fields)
                    continue
                else:
                    return answer
            if not self.process.is_alive():
                code = self.process.exitcode
                self._reap()
                raise EngineProcessDied(describe_exit(code))

    def close(self, force: bool = False) -> None:
        """Stop the child: cancel its request and ask it to stop, then kill
        it if it has not within STOP_TIMEOUT_S (at once with `force`)."""
        if self.process is None:
            return
        try:
            self.conn.send(msg.Stop())
        except (BrokenPipeError, OSError):
            pass
        self.cancel_event.set()
        self.process.join(0 if force else STOP_TIMEOUT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(STOP_TIMEOUT_S)
        self._reap()


def launch_engine_processes(classifier_spec: str, devices) -> list:
    """One launched (not yet ready) EngineProcess per device name, in order."""
    processes = [EngineProcess(classifier_spec, str(name)) for name in devices]
    for process in processes:
        process.launch()
    return processes
