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
import time
from pathlib import Path

from .runtime_file import AlreadyRunning, InstanceLock
from .validation import JOB_ID_RE

log = logging.getLogger(__name__)

INPUT_FILES = {"image": "image.rgba", "source_mask": "source_mask.u8", "target_mask": "target_mask.u8"}
STATE_FILE = "state.json"
RESULT_DIR = "result"
QUARANTINE_DIR = "quarantine"  # job folders a start could not read, beside jobs/


class Unreadable(str):
    """A state.json that could not be read or parsed: the reason."""


class SpoolError(RuntimeError):
    pass


class ResultsNotSaved(RuntimeError):
    """The job ran but its results could not be written to the spool (a full disk)."""


def _write_synced(path: Path, data) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_atomic(path: Path, data) -> None:
    """Replace `path` with `data`: all of it or none, also after a power cut
    (fsync before the rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        _write_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written leftover
        raise


def link_or_copy(source: Path, path: Path) -> None:
    """`path` becomes a hard link to `source` (no disk used), or a copy where the
    file system has no hard links (some network or FAT file systems); atomically,
    replacing what `path` held."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
        if not JOB_ID_RE.fullmatch(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.jobs_dir / job_id

    # --- state -----------------------------------------------------------
    def save_state(self, job_id: str, state: dict) -> None:
        folder = self.job_dir(job_id)
        folder.mkdir(exist_ok=True, mode=0o700)
        text = json.dumps(state, indent=1, allow_nan=False)  # strict JSON: a NaN here is a bug, not a file
        _write_atomic(folder / STATE_FILE, (text + "\n").encode("utf-8"))

    def load_states(self) -> list:
        """-> [(job id, state)] of every job folder in the spool, by id. Removes
        leftovers of interrupted submits. `state` is whatever state.json holds
        (checking it is the board's job), or UNREADABLE when it cannot be read
        or parsed at all."""
        states = []
        for folder in sorted(self.jobs_dir.iterdir()):
            if not folder.is_dir() or not JOB_ID_RE.fullmatch(folder.name):
                continue
            state_path = folder / STATE_FILE
            if not state_path.exists():
                log.info("removing %s: a submit that never completed", folder)
                shutil.rmtree(folder, ignore_errors=True)
                continue
            shutil.rmtree(folder / (RESULT_DIR + ".tmp"), ignore_errors=True)  # a write a kill cut short
            try:
                state = json.loads(state_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                state = Unreadable(str(exc))
            states.append((folder.name, state))
        return states

    def quarantine(self, job_id: str) -> Path:
        """Move a job folder the server cannot use out of the way (kept for a
        person to look at, never read again) -> where it went."""
        target = self.root / QUARANTINE_DIR / f"{job_id}-{int(time.time())}"
        target.parent.mkdir(exist_ok=True, mode=0o700)
        os.replace(self.job_dir(job_id), target)
        return target

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    # --- inputs ----------------------------------------------------------
    def save_inputs(self, job_id: str, buffers: dict) -> None:
        """buffers: name -> bytes-like, or the Path of a file that holds them (a
        kept upload: hard-linked, or copied where links are not possible)."""
        folder = self.job_dir(job_id)
        folder.mkdir(mode=0o700)
        for name, filename in INPUT_FILES.items():
            if isinstance(buffers[name], Path):
                link_or_copy(buffers[name], folder / filename)
            else:
                _write_atomic(folder / filename, buffers[name])

    def input_file(self, job_id: str, name: str) -> Path:
        return self.job_dir(job_id) / INPUT_FILES[name]

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
        renamed, so a result folder is always complete. ResultsNotSaved where
        the disk refuses them."""
        folder = self.job_dir(job_id)
        tmp = folder / (RESULT_DIR + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(mode=0o700)
            for i, rgba in enumerate(layers):
                _write_synced(tmp / f"composite_{i}.rgba", rgba)
            _write_synced(tmp / "edit_mask.u8", edit_mask)
            _write_synced(tmp / "report.json", (json.dumps(report, indent=1, allow_nan=False) + "\n").encode())
            final = folder / RESULT_DIR
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)  # a full disk or a kill leaves no half result behind
            if not isinstance(exc, OSError):
                raise
            raise ResultsNotSaved(f"the results could not be written to the spool: {exc}") from None

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
