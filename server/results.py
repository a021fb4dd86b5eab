"""Recent results kept in memory, so a client fetching right after `done`
does not wait for PNG decoding. The spool copy stays the reference: an
evicted (or pre-restart) result is read back from there."""

from __future__ import annotations

import threading
from collections import OrderedDict


class ResultCache:
    def __init__(self, max_bytes: int = 512 * 2**20):
        self.max_bytes = max_bytes
        self._items = OrderedDict()  # job id -> (layers, edit_mask, nbytes)
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, job_id: str, layers: list, edit_mask: bytes) -> None:
        size = sum(len(layer) for layer in layers) + len(edit_mask)
        if size > self.max_bytes:
            return
        with self._lock:
            self._drop(job_id)
            self._items[job_id] = (layers, edit_mask, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def get(self, job_id: str):
        """-> (layers, edit_mask) or None."""
        with self._lock:
            item = self._items.get(job_id)
            if item is None:
                return None
            self._items.move_to_end(job_id)
            return item[0], item[1]

    def drop(self, job_id: str) -> None:
        with self._lock:
            self._drop(job_id)

    def _drop(self, job_id: str) -> None:
        item = self._items.pop(job_id, None)
        if item is not None:
            self._bytes -= item[2]
