"""How long each preset will take on this server, for a client to show
before it submits (the `estimate` operation).

Every figure is measured on this server's own device: the latest finished
job of that preset, or else a probe (the preset's real engine for a few
steps on a small synthetic photo, see magic_engine.estimate). Probes are
asked for by `estimate` and run by the device's worker only while it has
no job, one preset at a time, so they never delay a job by more than one
probe (seconds). A finished job more than REMEASURE_RATIO off its figure
has the device's other presets measured again, and every start measures
the probes' figures again while idle (a probe may have run on a busy
machine). Samples are kept in
<spool>/timings.json for the next start, under a key naming the engine
version, classifier and device, so a new GPU or engine is measured afresh.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from magic_engine.estimate import CostSample, predict_seconds

log = logging.getLogger(__name__)

TIMINGS_FILE = "timings.json"
# A finished job that took this many times more or less than its preset's figure said:
# the machine is not as it was when the figures were taken (a probe that ran while
# something else loaded it), so the device's other presets are measured again.
REMEASURE_RATIO = 2.0


class Estimates:
    def __init__(self, spool_root, devices: list, key_for_device, make_config, presets: list):
        """key_for_device(device) -> the str samples are filed under;
        make_config(preset) -> the MagicConfig a default job of it would use."""
        self.path = Path(spool_root) / TIMINGS_FILE
        self.devices = list(devices)
        self.keys = {device: key_for_device(device) for device in self.devices}
        self.make_config = make_config
        self.presets = list(presets)
        self.lock = threading.Lock()
        self.samples = {}  # key -> preset -> {"sample": dict, "basis": "job"|"probe", "measured": epoch s}
        self.wanted = {device: [] for device in self.devices}  # presets waiting for a probe, in order
        self.failed = {device: set() for device in self.devices}  # probes that failed: not retried until a restart
        self._load()

    # --- storage -----------------------------------------------------------
    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            for key, presets in data.items():
                for preset, entry in presets.items():
                    CostSample.from_dict(entry["sample"])  # a bad entry fails here, not in estimate()
                    if entry["basis"] not in ("job", "probe"):
                        raise ValueError(f"unknown basis {entry['basis']!r}")
            self.samples = data
            # A probe may have run while something else loaded the machine: measure it again
            # while idle, keeping its figure meanwhile, so a busy moment lasts no longer
            # than a start. A job's figure is the preset's real time; it stays.
            for device in self.devices:
                filed = self.samples.get(self.keys[device], {})
                self.wanted[device] = [preset for preset in self.presets
                                       if (filed.get(preset) or {}).get("basis") == "probe"]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring %s (%s); presets will be measured again", self.path, exc)

    def _save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            tmp.write_text(json.dumps(self.samples, indent=1, allow_nan=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except (OSError, ValueError) as exc:  # a full disk costs the next start a probe, nothing more
            log.warning("could not save %s: %s", self.path, exc)

    def _store(self, device: str, preset: str, sample: CostSample, basis: str) -> None:
        with self.lock:
            self.samples.setdefault(self.keys[device], {})[preset] = {
                "sample": sample.to_dict(), "basis": basis, "measured": round(time.time())}
            if preset in self.wanted[device]:
                self.wanted[device].remove(preset)
            self._save()

    # --- measurements in -----------------------------------------------------
    def record_job(self, device: str, params: dict, report: dict) -> None:
        """A finished job: its preset's sample, when the job ran the preset as
        it is (a job with its own iterations or size measures something else)."""
        preset = params.get("preset")
        if preset not in self.presets or params.get("iterations") or params.get("size"):
            return
        try:
            sample = CostSample.from_report(report)
            predicted = self._predicted(device, preset, report)
            took = float(report["total_seconds"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("job report without timings (%s); estimate not updated", exc)
            return
        if predicted is not None and max(took / predicted, predicted / max(took, 1e-6)) > REMEASURE_RATIO:
            others = [other for other in self.presets if other != preset]
            log.info("a %s job took %.0f s where %.0f s were expected; measuring %s again", preset, took,
                     predicted, ", ".join(others))
            with self.lock:
                self.wanted[device] = [p for p in self.wanted[device] if p not in others] + others
        self._store(device, preset, sample, "job")

    def _predicted(self, device: str, preset: str, report: dict):
        """Seconds the filed figure of `preset` gave for the job `report` describes (None if none)."""
        _, _, width, height = report["region"]["box"]
        config = self.make_config(preset).replace(variants=int(report["config"]["variants"]))
        predicted = self._figure(device, preset, config, int(width), int(height))
        return None if predicted is None else max(1e-6, predicted)

    def _figure(self, device: str, preset: str, config, width: int, height: int):
        """Seconds `device`'s filed sample of `preset` gives for `config` on a width x height
        region, or None where none is filed."""
        with self.lock:
            entry = self.samples.get(self.keys[device], {}).get(preset)
        return None if entry is None else predict_seconds(CostSample.from_dict(entry["sample"]), config, width,
                                                          height)

    def next_probe(self, device: str):
        """The preset this device's idle worker should probe next, or None."""
        with self.lock:
            wanted = self.wanted.get(device) or []
            return wanted[0] if wanted else None

    def record_probe(self, device: str, preset: str, sample: CostSample) -> None:
        self._store(device, preset, sample, "probe")

    def probe_failed(self, device: str, preset: str) -> None:
        """Not asked again in this server's life (a probe that failed for want of
        memory would fail, and restart the engine process, every second);
        a finished job of the preset still gives its figure."""
        with self.lock:
            if preset in self.wanted[device]:
                self.wanted[device].remove(preset)
            self.failed[device].add(preset)

    # --- estimates out -------------------------------------------------------
    def seconds(self, preset: str, width: int, height: int, config=None):
        """The first device's figure for a job of `preset` on a width x height region,
        or None; `config`: the job's own (its variants and iterations), else the
        preset's. Unlike `estimate`, never asks for a probe."""
        if preset not in self.presets:
            return None
        return self._figure(self.devices[0], preset, config or self.make_config(preset), width, height)

    def estimate(self, width: int, height: int) -> dict:
        """preset -> {"seconds", "basis", "variants"} for a width x height
        region on the first device (where an idle server runs the next job);
        seconds None while that preset is still to be measured (it is queued
        for a probe)."""
        device = self.devices[0]
        out = {}
        with self.lock:
            filed = self.samples.get(self.keys[device], {})
            for preset in self.presets:
                config = self.make_config(preset)
                entry = filed.get(preset)
                if entry is None and preset in self.failed[device]:
                    out[preset] = {"seconds": None, "basis": "failed", "variants": config.variants}
                    continue
                if entry is None:
                    if preset not in self.wanted[device]:
                        self.wanted[device].append(preset)
                    out[preset] = {"seconds": None, "basis": None, "variants": config.variants}
                    continue
                seconds = predict_seconds(CostSample.from_dict(entry["sample"]), config, width, height)
                out[preset] = {"seconds": round(seconds, 1), "basis": entry["basis"], "variants": config.variants}
        return {"device": device, "estimates": out,
                "measuring": any(value["basis"] is None for value in out.values())}
