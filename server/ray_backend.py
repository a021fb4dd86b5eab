"""Jobs on a Ray cluster: `python -m magic_server --backend ray [--ray-address ADDRESS]`.

The ZeroMQ front, authentication, spool and queue stay in the server. Each job
(and each preset measurement) runs as one Ray task on whichever machine of the
cluster has room: one GPU per task where the cluster has GPUs, else one CPU.
Its inputs go to the task and its results come back through Ray's object store;
the server writes them to the spool, as it does for its own engine processes.

    RayEngine        the server's engine: one worker thread per slot (as many
                     slots as the cluster has GPUs, or --ray-slots)
    run_engine_task  the task: an Engine per Ray worker process, classifier
                     loaded once and kept for that process's next tasks
    JobNews          an actor between them: progress from the tasks, cancel
                     requests to them

A cancel asks the task to stop before its next engine step, as locally; one
that has not stopped CANCEL_GRACE_S later is killed (`ray.cancel(force=True)`).
A Ray worker that dies (killed, out of memory) or a node that is lost fails the
job with a message that says so; Ray starts new workers for the next job.
Every machine of the cluster needs magic-gimp installed with the same version
(`pip install magic-gimp[cluster]`) and, for trained results, the classifier
weights in its own data folder (the server's --classifier is resolved there).
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import time

import ray
from ray import exceptions as ray_errors
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from . import engine_messages as msg
from .engine import EngineOffer, answer_for, probe_answer, progress_fields, raise_answer
from .engine_process import EngineProcessDied, EngineStartFailed

log = logging.getLogger(__name__)

NEWS_EVERY_S = 0.25  # how often the server collects a task's progress, and a task looks for a cancel
CANCEL_GRACE_S = 15.0  # a cancelled task still running after this is killed (--ray-cancel-grace)
START_TIMEOUT_S = 600.0  # the first task: a worker imports torch and loads the classifier
SLOT_PREFIX = "ray:"


@ray.remote(num_cpus=0)
class JobNews:
    """Progress posted by tasks, collected by the server; cancel requests the other way."""

    def __init__(self):
        self.progress: dict = {}  # key -> [fields] not yet collected
        self.cancelled: set = set()
        self.ended = collections.deque(maxlen=256)  # keys forgotten: a task's late posts are dropped

    def post(self, key: str, fields: dict) -> None:
        if key not in self.ended:
            self.progress.setdefault(key, []).append(fields)

    def collect(self, key: str) -> list:
        return self.progress.pop(key, [])

    def cancel(self, key: str) -> None:
        self.cancelled.add(key)

    def is_cancelled(self, key: str) -> bool:
        return key in self.cancelled

    def forget(self, key: str) -> None:
        self.progress.pop(key, None)
        self.cancelled.discard(key)
        self.ended.append(key)


# --- the task, in a Ray worker process ----------------------------------------
_engines: dict = {}  # (classifier spec, device) -> server.engine.Engine of this worker process


def _engine_here(classifier_spec: str):
    """This worker's Engine (made on its first task) and its device."""
    device = "cuda" if ray.get_gpu_ids() else "cpu"
    if device == "cpu":  # Ray runs tasks with one OpenMP thread; a job has the machine's cores
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
    key = (classifier_spec, device)
    if key not in _engines:
        from .engine import Engine

        _engines[key] = Engine(classifier_spec, [device])
    engine = _engines[key]
    return engine, engine.devices[0]


class _TaskNews:
    """The task's side of JobNews: posts progress (at most every NEWS_EVERY_S, plus
    each phase's end and previews) and answers the engine's cancel checks."""

    def __init__(self, news, key: str):
        self.news, self.key = news, key
        self.last_post = self.last_check = -float("inf")
        self.cancelled = False

    def progress(self, p) -> None:
        now = time.monotonic()
        if p.preview is not None or p.step >= p.total or now - self.last_post >= NEWS_EVERY_S:
            self.last_post = now
            self.news.post.remote(self.key, progress_fields(p))

    def cancel_requested(self) -> bool:
        now = time.monotonic()
        if not self.cancelled and now - self.last_check >= NEWS_EVERY_S:
            self.last_check = now
            self.cancelled = ray.get(self.news.is_cancelled.remote(self.key))
        return self.cancelled


def run_engine_task(request, inputs, news, key: str, classifier_spec: str):
    """request: engine_messages' Describe, Probe or RunInputs; inputs: the job's
    input buffers (name -> bytes) for RunInputs. -> Ready (with the device's
    description), Probed or Results, else Cancelled, Failed or Crashed."""
    task = _TaskNews(news, key)
    try:
        engine, device = _engine_here(classifier_spec)
        if isinstance(request, msg.Describe):
            return msg.Ready(engine.classifier_info, engine._device_info(device)["description"])
        if isinstance(request, msg.Probe):
            return probe_answer(engine, request.preset, device, task.cancel_requested)
        out = engine.run(request.width, request.height, inputs, request.params, device, task.progress,
                         task.cancel_requested)
        return msg.Results(out.layers, out.edit_mask, out.report)
    except Exception as exc:  # noqa: BLE001 - described (and logged, with its traceback) by the server
        return answer_for(exc)


# A task on a CPU keeps its worker (and Engine) for the next one. One on a GPU gets a
# fresh worker each time (Ray's max_calls=1 for GPU functions): a reused worker's torch
# stays on the GPU it first opened, whichever GPU Ray gives its next task.
cpu_task = ray.remote(max_retries=0)(run_engine_task)
gpu_task = ray.remote(max_retries=0, num_gpus=1)(run_engine_task)


# --- the server's side ---------------------------------------------------------
def describe_ray_failure(exc: Exception) -> str:
    """A Ray error that ended a task, in words for the job's message."""
    first_line = (str(exc).strip().splitlines() or [""])[0].split(". ")[0][:300]  # Ray's first sentence
    if isinstance(exc, ray_errors.OutOfMemoryError):
        return (f"the Ray worker running this job was killed for lack of memory on its machine ({first_line}): use "
                f"a smaller preset, fewer variants or a smaller area")
    if isinstance(exc, (ray_errors.NodeDiedError, ray_errors.ActorDiedError)) or "node" in first_line.lower():
        return f"the machine running this job left the Ray cluster ({type(exc).__name__}: {first_line})"
    return f"the Ray worker running this job died ({type(exc).__name__}: {first_line})"


class RayEngine(EngineOffer):
    """Jobs as Ray tasks; one worker thread (slot) per task that may run at once."""

    def __init__(self, classifier_spec: str = "auto", address: str | None = None, slots: int | None = None,
                 local_cpus: int | None = None, cancel_grace_s: float = CANCEL_GRACE_S):
        """address: a cluster's (ray://... or HOST:PORT, or "auto"), or None: a Ray
        instance of this machine's own, started here with `local_cpus` CPUs.
        cancel_grace_s: how long a cancelled task may take to stop before it is killed."""
        self.classifier_spec = classifier_spec
        self.cancel_grace_s = cancel_grace_s
        self.address = address
        self._calls = itertools.count()
        if address is None:
            ray.init(num_cpus=local_cpus, include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
        try:
            resources = ray.cluster_resources()
            gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
            if not gpus and not cpus:
                raise EngineStartFailed("no machine of the Ray cluster can run a job (it has no GPU and no CPU to "
                                        "lend): start Ray on the GPU machines (ray start --address HEAD:6379) "
                                        "before the server")
            self.task = gpu_task if gpus else cpu_task
            self.slot_count = slots or max(1, gpus)
            self.cluster = (f"Ray cluster {'of this machine' if address is None else 'at ' + address}: "
                            f"{gpus} GPU(s), {cpus} CPU(s)")
            super().__init__(classifier_spec, [f"{SLOT_PREFIX}{i}" for i in range(self.slot_count)])
            # On the server's own node: a machine that leaves the cluster must not take it along.
            self.news = self._new_news()
            answer = self._call(msg.Describe(), None, "start", timeout=START_TIMEOUT_S)
            if not isinstance(answer, msg.Ready):
                raise EngineStartFailed(f"a Ray worker could not start the engine: {answer.text}",
                                        answer.code if isinstance(answer, msg.Failed) else "engine_error")
            info = answer.classifier_info
            self._describe_classifier(info["description"], info["warning"])
            self.cluster += f"; jobs run on {answer.device}" if gpus else "; jobs run on a CPU"
        except BaseException:
            ray.shutdown()
            raise
        log.info("%s, %d slot(s)", self.cluster, self.slot_count)

    @staticmethod
    def _resolve_devices(names) -> list:
        return list(names)  # slots, not devices: the cluster places each task

    def _device_info(self, name: str) -> dict:
        return {"name": name, "description": self.cluster}

    def run_spooled(self, spool_root, job_id: str, width: int, height: int, sizes: dict, params: dict, device: str,
                    progress, cancel) -> tuple:
        """As IsolatedEngine.run_spooled: inputs read from the spool, results written there."""
        import magic_engine

        from .spool import Spool

        spool = Spool(spool_root)  # the server holds its lock; this reads and writes the job's own files
        inputs = spool.load_inputs(job_id, sizes)  # SpoolError: the worker fails the job as input_lost
        answer = self._call(msg.RunInputs(width, height, params), inputs, job_id,
                            on_progress=lambda fields: progress(magic_engine.Progress(**fields)),
                            cancelled=cancel.is_set)
        del inputs
        if not isinstance(answer, msg.Results):
            return raise_answer(answer)
        spool.save_result(job_id, answer.layers, answer.edit_mask, answer.report)  # or ResultsNotSaved
        return len(answer.layers), answer.report

    def probe(self, preset: str, device: str, cancel=None):
        from magic_engine.estimate import CostSample

        answer = self._call(msg.Probe(preset), None, f"probe-{device}", cancelled=cancel)
        return CostSample.from_dict(answer.sample) if isinstance(answer, msg.Probed) else raise_answer(answer)

    @staticmethod
    def _new_news():
        # On the server's own node: a machine that leaves the cluster must not take it along.
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        return JobNews.options(scheduling_strategy=here).remote()

    def _call(self, request, inputs, key: str, on_progress=None, cancelled=None, timeout: float | None = None):
        """Run one task and wait for its answer, passing its progress on and its
        cancel request down. Raises EngineProcessDied when Ray loses the task,
        EngineStartFailed when it has not answered within `timeout` s."""
        key = f"{key}/{next(self._calls)}"  # one key per task: a probe's or a retried job's are never mixed up
        task = self.task.remote(request, inputs, self.news, key, self.classifier_spec)
        cancel_sent, finished = None, False
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                if deadline is not None and time.monotonic() > deadline:  # cancelled on the way out
                    raise EngineStartFailed(f"no Ray worker ran the engine within {timeout:g} s (is a machine of "
                                            f"the cluster free, and magic-gimp installed there?)")
                done, _ = ray.wait([task], timeout=NEWS_EVERY_S)
                if on_progress is not None:
                    for fields in ray.get(self.news.collect.remote(key)):
                        on_progress(fields)
                if done:
                    finished = True
                    break
                if cancel_sent is None and cancelled is not None and cancelled():
                    cancel_sent = time.monotonic()
                    self.news.cancel.remote(key)
                if cancel_sent is not None and time.monotonic() - cancel_sent >= self.cancel_grace_s:
                    log.warning("task %s did not stop %g s after its cancel; killing it", key, self.cancel_grace_s)
                    ray.cancel(task, force=True)
                    cancel_sent = float("inf")  # once
            return ray.get(task)
        except ray_errors.TaskCancelledError:
            return msg.Cancelled("cancelled")
        except ray_errors.RayActorError as exc:  # the news actor itself is gone: a new one for the next job
            self.news = self._new_news()
            raise EngineProcessDied(f"the server lost touch with the Ray task running this job ({exc})") from None
        except ray_errors.RayError as exc:
            if cancel_sent is not None:  # killed after a cancel it did not heed
                return msg.Cancelled("cancelled")
            code = "out_of_memory" if isinstance(exc, ray_errors.OutOfMemoryError) else "engine_error"
            raise EngineProcessDied(describe_ray_failure(exc), code) from None
        finally:
            if not finished:  # left early (lost touch, the server stopping): the task must not go on alone
                ray.cancel(task, force=True)
            self.news.forget.remote(key)

    def close(self) -> None:
        ray.shutdown()  # a Ray instance of this machine's own stops; a cluster carries on
