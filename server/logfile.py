"""The server's log file, rotated by size.

The server's stderr is the log file itself (dup2 onto fds 1 and 2), so what
does not go through `logging` (a crash in torch, a warning printed by a
library) lands in the same file. When the file passes `max_bytes` it becomes
<log>.1 (the older ones move up to <log>.<backups>, the oldest is dropped)
and a fresh file takes over fds 1 and 2.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3


class RotatingLogFile(logging.StreamHandler):
    def __init__(self, path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS):
        self.path, self.max_bytes, self.backups = Path(path), max_bytes, backups
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._take_over_stderr()
        super().__init__(sys.stderr)

    def _take_over_stderr(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        try:
            too_big = os.fstat(2).st_size > self.max_bytes
        except OSError:
            return
        if too_big:
            self._rotate()

    def _rotate(self) -> None:
        try:
            for index in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{index}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{index + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
            self._take_over_stderr()
        except OSError:  # e.g. Windows will not rename an open file: keep writing where we are
            pass
