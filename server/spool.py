"""The spool: one folder per job holding its state, inputs and results, so
that nothing is lost when a client disconnects or the server is killed.

    <spool>/jobs/<job id>/state.json         job record, replaced atomically
    <spool>/jobs/<job id>/image.rgba          raw inputs (until the job ends)
    <spool>/jobs/<job id>/source_mask.u8
    <spool>/jobs/<job id>/target_mask.u8
    <spool>/jobs/<job id>/result/composite_<i>.png, edit_mask.png, report.json

Folder names are job ids the server made (checked against their pattern),
never anything a client sent. A job folder without state.json is the
leftover of a submit that was interrupted, and is removed on start.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from .runtime_file import AlreadyRunning, InstanceLock
from .validation import JOB_ID_RE

log = logging.getLogger(__name__)

INPUT_FILES = {"image": "image.rgba", "source_mask": "source_mask.u8", "target_mask": "target_mask.u8"}
STATE_FILE = "state.json"
RESULT_DIR = "result"


class SpoolError(RuntimeError):
    pass


def _write_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Spool:
    def __init__(self, root):
        self.root = Path(root)
        self.jobs_dir = self.root / "jobs"
        self.lock = InstanceLock(self.root / ".lock")

    def claim(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.jobs_dir.mkdir(exist_ok=True, mode=0o700)
        if not self.lock.acquire():
            raise AlreadyRunning(f"the spool {self.root} is in use by another MAGIC server; give this one its "
                                 f"own --spool folder")

    def release(self) -> None:
        self.lock.release()

    def job_dir(self, job_id: str) -> Path:
        if not JOB_ID_RE.match(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.jobs_dir / job_id

    # --- state -----------------------------------------------------------
    def save_state(self, job_id: str, state: dict) -> None:
        folder = self.job_dir(job_id)
        folder.mkdir(exist_ok=True, mode=0o700)
        _write_atomic(folder / STATE_FILE, (json.dumps(state, indent=1) + "\n").encode("utf-8"))

    def load_states(self) -> list:
        """-> [state dict] of every job in the spool, oldest first. Removes
        leftovers of interrupted submits; skips (and logs) unreadable ones."""
        states = []
        for folder in sorted(self.jobs_dir.iterdir()):
            if not folder.is_dir() or not JOB_ID_RE.match(folder.name):
                continue
            state_path = folder / STATE_FILE
            if not state_path.exists():
                log.info("removing %s: a submit that never completed", folder)
                shutil.rmtree(folder, ignore_errors=True)
                continue
            try:
                state = json.loads(state_path.read_text(encoding="utf-8"))
                if state.get("id") != folder.name:
                    raise ValueError("id does not match the folder")
            except (OSError, ValueError) as exc:
                log.warning("skipping %s: unreadable state (%s)", folder, exc)
                continue
            states.append(state)
        return sorted(states, key=lambda s: s.get("created", 0))

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    # --- inputs ----------------------------------------------------------
    def save_inputs(self, job_id: str, buffers: dict) -> None:
        folder = self.job_dir(job_id)
        folder.mkdir(mode=0o700)
        for name, filename in INPUT_FILES.items():
            _write_atomic(folder / filename, buffers[name])

    def load_inputs(self, job_id: str, sizes: dict) -> dict:
        """name -> bytes; `sizes`: name -> expected byte count."""
        folder = self.job_dir(job_id)
        out = {}
        for name, filename in INPUT_FILES.items():
            try:
                data = (folder / filename).read_bytes()
            except OSError as exc:
                raise SpoolError(f"input {name} of job {job_id} could not be read: {exc}") from None
            if len(data) != sizes[name]:
                raise SpoolError(f"input {name} of job {job_id} is {len(data)} bytes, expected {sizes[name]}")
            out[name] = data
        return out

    def drop_inputs(self, job_id: str) -> None:
        folder = self.job_dir(job_id)
        for filename in INPUT_FILES.values():
            try:
                (folder / filename).unlink()
            except FileNotFoundError:
                pass

    # --- results ---------------------------------------------------------
    def save_result(self, job_id: str, width: int, height: int, layers: list, edit_mask, report: dict) -> None:
        """PNG files + report.json, written to a temporary folder then renamed,
        so a result folder is always complete."""
        from PIL import Image  # server side only; the client package never imports Pillow

        folder = self.job_dir(job_id)
        tmp = folder / (RESULT_DIR + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        for i, rgba in enumerate(layers):
            image = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
            image.save(tmp / f"composite_{i}.png", format="PNG", compress_level=1)
        Image.frombuffer("L", (width, height), edit_mask, "raw", "L", 0, 1).save(
            tmp / "edit_mask.png", format="PNG", compress_level=1)
        (tmp / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        final = folder / RESULT_DIR
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)

    def has_result(self, job_id: str, variants: int) -> bool:
        folder = self.job_dir(job_id) / RESULT_DIR
        names = [f"composite_{i}.png" for i in range(variants)] + ["edit_mask.png"]
        return all((folder / name).is_file() for name in names)

    def load_result(self, job_id: str, width: int, height: int, variants: int):
        """-> (layers: [RGBA bytes], edit_mask bytes)."""
        from PIL import Image

        folder = self.job_dir(job_id) / RESULT_DIR

        def read(name, mode):
            try:
                with Image.open(folder / name) as image:
                    if image.size != (width, height) or image.mode != mode:
                        raise SpoolError(f"{name} of job {job_id} is {image.mode} {image.size}, expected "
                                         f"{mode} {(width, height)}")
                    return image.tobytes()
            except OSError as exc:
                raise SpoolError(f"result {name} of job {job_id} could not be read: {exc}") from None

        layers = [read(f"composite_{i}.png", "RGBA") for i in range(variants)]
        return layers, read("edit_mask.png", "L")
