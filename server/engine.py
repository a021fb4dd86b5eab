"""The server's view of magic_engine: what it offers (for `hello` and for
checking submit params) and one call that runs a job on raw buffers.

    EngineOffer     what the server offers and checks; loads no classifier
    Engine          the engine in this process: classifiers loaded, jobs run
    IsolatedEngine  what the server uses: an Engine per device in a child
                    process (engine_process.py), so a crash or an
                    out-of-memory kill ends a job, not the server
    RayEngine       (ray_backend.py, `--backend ray`) an Engine per Ray worker,
                    jobs as Ray tasks on a cluster's machines

An engine running elsewhere answers with engine_messages.py's dataclasses:
Saved or Results, Probed, and else Cancelled, Failed (the engine refused the
inputs or could not run: a message for the user, with its failure code) or
Crashed (with its traceback); `raise_answer` turns the last three into
exceptions.

This module, engine_process.py and ray_backend.py are the only server modules
that import torch (through magic_engine).
"""

from __future__ import annotations

import logging
import math
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import magic_engine
from magic_common.choices import DEFAULT_MODE, DEFAULT_PRESET
from magic_engine import ConfigError
from magic_engine.fill import FILL_REACH

from . import engine_messages as msg
from .validation import RequestError

log = logging.getLogger(__name__)

# Estimates are probed in this order: the presets people pick first, tests' own last.
ESTIMATE_ORDER = ("preview", "standard", "paper", "tiny")


@dataclass
class EngineOutput:
    layers: list  # RGBA bytes per variant, at the submitted size
    edit_mask: bytes
    report: dict


def classifier_name(spec: str) -> str:
    """The name clients use to pick the classifier: the spec, or a
    checkpoint's file stem (clients never send paths)."""
    if "/" in spec or "\\" in spec or spec.endswith((".pt", ".pth", ".ckpt", ".bin")):
        return Path(spec).stem
    return spec


def _json_safe(value):
    """Tuples -> lists, numpy scalars -> Python numbers, NaN and infinities -> None,
    recursively: a report must never stop the server from saving or sending it
    (strict JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def progress_fields(p) -> dict:
    """A magic_engine.Progress as plain fields, to cross a process (magic_engine.Progress(**fields))."""
    return {"phase": p.phase, "step": p.step, "total": p.total, "losses": dict(p.losses),
            "elapsed_s": p.elapsed_s, "eta_s": p.eta_s, "preview": p.preview}


def probe_answer(engine, preset: str, device: str, cancel) -> msg.Probed:
    """The answer an engine running elsewhere gives to a probe: its cost sample in
    the sample's JSON form (estimate.CostSample.from_dict reads it back)."""
    return msg.Probed(engine.probe(preset, device, cancel=cancel).to_dict())


def answer_for(exc: BaseException):
    """The answer an engine running elsewhere gives for `exc`, raised by its job (the
    inverse of raise_answer); call it in the `except` block, for the traceback."""
    if isinstance(exc, magic_engine.Cancelled):
        return msg.Cancelled(str(exc))
    if isinstance(exc, magic_engine.MagicError):
        return msg.Failed(str(exc), exc.code)
    return msg.Crashed(f"{type(exc).__name__}: {exc}", traceback.format_exc())


def raise_answer(answer):
    """An engine's Cancelled, Failed or Crashed answer (engine_messages) as the
    exception the worker expects; any other answer is a crash too."""
    from .engine_process import EngineCrashed

    if isinstance(answer, msg.Cancelled):
        raise magic_engine.Cancelled(answer.text)
    if isinstance(answer, msg.Failed):
        error = magic_engine.MagicError(answer.text)
        error.code = answer.code  # the engine's own exception's code (magic_engine.errors)
        raise error
    if isinstance(answer, msg.Crashed):
        log.error("the engine failed: %s\n%s", answer.text, answer.traceback)
        raise EngineCrashed(answer.text)
    log.error("the engine answered %r", answer)
    raise EngineCrashed(f"the engine gave an unexpected answer ({type(answer).__name__})")


def _rgba_bytes(composite: np.ndarray) -> bytes:
    if composite.shape[2] == 4:
        return np.ascontiguousarray(composite).tobytes()
    height, width = composite.shape[:2]
    out = np.empty((height, width, 4), np.uint8)
    out[:, :, :3] = composite
    out[:, :, 3] = 255  # the engine drops alpha when the input was opaque
    return out.tobytes()


class EngineOffer:
    """Devices, classifier, presets and modes; checks params. Subclasses run jobs."""

    # What `run` raises, for callers that must not import torch themselves.
    Cancelled = magic_engine.Cancelled
    Error = magic_engine.MagicError

    def __init__(self, classifier_spec: str = "auto", devices=("auto",)):
        self.devices = self._resolve_devices(devices)
        self.classifier_name = classifier_name(classifier_spec)
        self.classifier_info = None  # {"name", "description", "warning"}, once a classifier is loaded
        defaults = magic_engine.make_config()
        # What the engine reads of a photo: the region, and the photo around it that holes are filled from.
        self.region_rule = {"context_margin": defaults.context_margin, "min_context": defaults.min_context,
                            "fill_reach": FILL_REACH}

    @staticmethod
    def _resolve_devices(names) -> list:
        """The worker names, one per device: "auto" resolved to this machine's best."""
        devices = []
        for name in names:
            device = str(magic_engine.resolve_device(name))
            if device in devices:
                raise ConfigError(f"device {device} was given twice")
            devices.append(device)
        return devices

    def _describe_classifier(self, description: str, warning) -> None:
        self.classifier_info = {"name": self.classifier_name, "description": description, "warning": warning}

    def release(self, device: str) -> None:
        """The device's worker has stopped."""

    def close(self) -> None:
        """The server is stopping (workers stopped or given up on)."""

    @staticmethod
    def _device_info(name: str) -> dict:
        """magic_engine's description of device `name` ("cuda" finds "cuda:0")."""
        known = {d["name"]: d for d in magic_engine.available_devices()}
        return dict(known.get(name, known.get(name + ":0", {"description": name})), name=name)

    def hello_info(self) -> dict:
        devices = [self._device_info(name) for name in self.devices]
        return {
            "engine_version": magic_engine.__version__,
            "devices": devices,
            "classifiers": [self.classifier_info],
            "presets": magic_engine.preset_summaries(),
            "modes": list(magic_engine.MODES),
            "defaults": {"mode": DEFAULT_MODE, "preset": DEFAULT_PRESET, "classifier": self.classifier_name},
            "region_rule": self.region_rule,
        }

    def choices(self) -> dict:
        return {
            "mode": list(magic_engine.MODES),
            "preset": list(magic_engine.PRESET_NAMES),
            "classifier": [self.classifier_name],
            "device": ["auto"] + self.devices,
        }

    def make_config(self, params: dict):
        try:
            return magic_engine.make_config(params.get("preset", DEFAULT_PRESET), params.get("mode", DEFAULT_MODE),
                                            variants=params.get("variants"), iterations=params.get("iterations"),
                                            size=params.get("size"))
        except ConfigError as exc:
            raise RequestError("invalid_param", str(exc)) from None

    def estimate_presets(self) -> list:
        return [name for name in ESTIMATE_ORDER if name in magic_engine.PRESET_NAMES] + \
            [name for name in magic_engine.PRESET_NAMES if name not in ESTIMATE_ORDER]

    def estimate_key(self, device: str) -> str:
        """What a measured time depends on besides the preset: engine, classifier, device."""
        description = self._device_info(device).get("description", device)
        return f"engine {magic_engine.__version__} | {self.classifier_info['description']} | {description}"

    def default_config(self, preset: str):
        return magic_engine.make_config(preset, DEFAULT_MODE)


class Engine(EngineOffer):
    """Classifiers loaded once per device in this process, reused for every job."""

    def __init__(self, classifier_spec: str = "auto", devices=("auto",)):
        super().__init__(classifier_spec, devices)
        self.classifiers = {}
        self._warm = set()  # devices that have run the engine once in this process
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", magic_engine.RandomClassifierWarning)  # it is logged and announced
            for device in self.devices:
                self.classifiers[device] = magic_engine.load_classifier(classifier_spec, device)
        first = self.classifiers[self.devices[0]]
        self._describe_classifier(first.description, first.warning)

    def probe(self, preset: str, device: str, cancel=None):
        """A CostSample of `preset` measured on `device` (up to about 20 s on a 2-core CPU)."""
        from magic_engine.estimate import probe

        sample = probe(self.default_config(preset), self.classifiers[device], device, cancel=cancel,
                       warm_up=device not in self._warm)
        self._warm.add(device)
        return sample

    def run(self, width: int, height: int, inputs: dict, params: dict, device: str, progress, cancel) -> EngineOutput:
        """Raises magic_engine.Cancelled, or MagicError with a human message."""
        image = np.frombuffer(inputs["image"], np.uint8).reshape(height, width, 4)
        source = np.frombuffer(inputs["source_mask"], np.uint8).reshape(height, width)
        target = np.frombuffer(inputs["target_mask"], np.uint8).reshape(height, width)
        result = magic_engine.synthesize(image, source, target, self.make_config(params),
                                         classifier=self.classifiers[device], device=device,
                                         seed=params.get("seed", 0), progress=progress, cancel=cancel)
        self._warm.add(device)
        return EngineOutput(layers=[_rgba_bytes(c) for c in result.composites],
                            edit_mask=np.ascontiguousarray(result.edit_mask).tobytes(),
                            report=_json_safe(result.report.to_dict()))


class IsolatedEngine(EngineOffer):
    """An Engine per device, each in its own child process."""

    def __init__(self, classifier_spec: str = "auto", devices=("auto",), launched=None):
        """launched: EngineProcess objects already launched, one per entry of
        `devices` in order (engine_process.launch_engine_processes); all are
        closed if this fails."""
        from .engine_process import launch_engine_processes

        launched = list(launched) if launched is not None else launch_engine_processes(classifier_spec, devices)
        try:
            super().__init__(classifier_spec, devices)
            self.processes = dict(zip(self.devices, launched))
            for device in self.devices:
                self.processes[device].device = device  # the resolved name, for messages
                info = self.processes[device].wait_ready()
                if self.classifier_info is None:
                    self._describe_classifier(info["description"], info["warning"])
        except BaseException:
            for process in launched:
                process.close(force=True)
            raise

    def run_spooled(self, spool_root, job_id: str, width: int, height: int, sizes: dict, params: dict, device: str,
                    progress, cancel) -> tuple:
        """Run a job whose inputs are in the spool, leaving its results there
        -> (variants, report). Raises Cancelled, Error, spool.SpoolError (inputs
        unreadable), spool.ResultsNotSaved or EngineProcessDied."""
        from .spool import ResultsNotSaved, SpoolError

        answer = self.processes[device].request(
            msg.RunSpooled(str(spool_root), job_id, width, height, sizes, params),
            on_progress=lambda fields: progress(magic_engine.Progress(**fields)), cancelled=cancel.is_set)
        if isinstance(answer, msg.Saved):
            return answer.variants, answer.report
        if isinstance(answer, msg.InputLost):
            raise SpoolError(answer.text)
        if isinstance(answer, msg.NotSaved):
            raise ResultsNotSaved(answer.text)
        return raise_answer(answer)

    def probe(self, preset: str, device: str, cancel=None):
        from magic_engine.estimate import CostSample

        answer = self.processes[device].request(msg.Probe(preset), cancelled=cancel)
        return CostSample.from_dict(answer.sample) if isinstance(answer, msg.Probed) else raise_answer(answer)

    def release(self, device: str) -> None:
        self.processes[device].close()

    def close(self) -> None:
        for process in self.processes.values():
            process.close()
