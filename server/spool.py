"""The spool: one folder per job holding its state, inputs and results, so
that nothing is lost when a client disconnects or the server is killed.

    <spool>/jobs/<job id>/state.json         job record, replaced atomically
    <spool>/jobs/<job id>/image.rgba          raw inputs (until the job ends)
    <spool>/jobs/<job id>/source_mask.u8
    <spool>/jobs/<job id>/target_mask.u8
    <spool>/jobs/<job id>/result/composite_<i>.rgba, edit_mask.u8, report.json

Results are raw pixels, not PNG: encoding a 4000x3000 RGBA layer as PNG
takes about 3 s on a laptop CPU (1.5 s even uncompressed) against 0.02 s
for a raw write, and the client wants raw pixels anyway.
`python -m magic_server.client fetch JOB --out DIR` writes PNG files.

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
    def save_result(self, job_id: str, layers: list, edit_mask, report: dict) -> None:
        """Raw layers + report.json, written to a temporary folder then
        renamed, so a result folder is always complete."""
        folder = self.job_dir(job_id)
        tmp = folder / (RESULT_DIR + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        for i, rgba in enumerate(layers):
            (tmp / f"composite_{i}.rgba").write_bytes(rgba)
        (tmp / "edit_mask.u8").write_bytes(edit_mask)
        (tmp / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        final = folder / RESULT_DIR
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)

    @staticmethod
    def _result_files(width: int, height: int, variants: int) -> dict:
        files = {f"composite_{i}.rgba": width * height * 4 for i in range(variants)}
        files["edit_mask.u8"] = width * height
        return files

    def has_result(self, job_id: str, width: int, height: int, variants: int) -> bool:
        folder = self.job_dir(job_id) / RESULT_DIR
        try:
            return all((folder / name).stat().st_size == size
                       for name, size in self._result_files(width, height, variants).items())
        except OSError:
            return False

    def load_result(self, job_id: str, width: int, height: int, variants: int):
        """-> (layers: [RGBA bytes], edit_mask bytes)."""
        folder = self.job_dir(job_id) / RESULT_DIR
        data = []
        for name, size in self._result_files(width, height, variants).items():
            try:
                content = (folder / name).read_bytes()
            except OSError as exc:
                raise SpoolError(f"result {name} of job {job_id} could not be read: {exc}") from None
            if len(content) != size:
                raise SpoolError(f"result {name} of job {job_id} is {len(content)} bytes, expected {size}")
            data.append(content)
        return data[:-1], data[-1]
