"""Photos a client uploaded, kept so that its next run on the same photo names it
by sha256 instead of sending it again (over a slow link the upload is most of a
preview job's round trip).

    <spool>/uploads/<key>.rgba     key = sha256 of (client, the image's sha256)

Each entry is a hard link to the image file of the job that brought it (a copy
where the file system has no hard links), so keeping it costs no disk while that
job's inputs are kept. Entries are per client: a designer cannot learn whether
another one uploaded a photo. Kept `keep_s` after their last use, and the ones
used longest ago go first while all together exceed `max_bytes`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

from .spool import link_or_copy

log = logging.getLogger(__name__)

UPLOADS_DIR = "uploads"


class Uploads:
    def __init__(self, spool_root, max_bytes: int, keep_s: float):
        self.folder = Path(spool_root) / UPLOADS_DIR
        self.max_bytes, self.keep_s = max_bytes, keep_s

    def _path(self, client: str, digest: str) -> Path:
        key = hashlib.sha256(f"{client}\0{digest}".encode("utf-8")).hexdigest()
        return self.folder / f"{key}.rgba"

    def find(self, client: str, digest: str, nbytes: int):
        """The kept image `client` uploaded with this sha256, if it has `nbytes`
        -> its file (marked as used now), or None."""
        path = self._path(client, digest)
        try:
            if path.stat().st_size != nbytes:
                return None
            os.utime(path)
        except OSError:
            return None
        return path

    def keep(self, client: str, digest: str, job_image: Path) -> None:
        """Keep a job's image file (already checked against `digest`) for its
        client's next runs. A failure costs the next run an upload, nothing else."""
        try:
            self.folder.mkdir(exist_ok=True, mode=0o700)
            link_or_copy(job_image, self._path(client, digest))
        except OSError as exc:
            log.warning("could not keep an uploaded image for later runs: %s", exc)

    def expire(self) -> int:
        """Drop entries unused for keep_s, then the least recently used while
        all together exceed max_bytes -> how many were dropped."""
        entries = []
        for entry in self.folder.glob("*.rgba"):
            try:
                info = entry.stat()
            except OSError:  # removed meanwhile
                continue
            entries.append((info.st_mtime, info.st_size, entry))
        entries.sort()
        total, now, dropped = sum(size for _, size, _ in entries), time.time(), 0
        for used, size, entry in entries:
            if now - used <= self.keep_s and total <= self.max_bytes:
                break
            entry.unlink(missing_ok=True)
            total -= size
            dropped += 1
        return dropped
