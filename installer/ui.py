"""Console output: step headings, notes, and a progress bar for downloads."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def say(text: str) -> None:
    print(f"   {text}", flush=True)


def warn(text: str) -> None:
    print(f"   WARNING: {text}", flush=True)


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class ProgressBar:
    """A one-line bar on a terminal; start/end lines otherwise (logs stay readable)."""

    def __init__(self, label: str, total: Optional[int], done: int = 0, stream: Optional[TextIO] = None):
        self.label = label
        self.total = total
        self.done = done
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self.start_bytes = done
        self._last_draw = 0.0
        if not self.live:
            size = _mb(total) if total else "unknown size"
            resume = f", resuming at {_mb(done)}" if done else ""
            self.stream.write(f"   downloading {label} ({size}{resume})\n")
            self.stream.flush()

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if self.live and now - self._last_draw >= 0.1:
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = (self.done - self.start_bytes) / max(now - self.started, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            eta = (self.total - self.done) / rate if rate > 0 else 0
            text = f"\r   {self.label} [{bar:<30}] {frac * 100:5.1f}% {_mb(self.done)}/{_mb(self.total)} " \
                   f"{rate / 1e6:.1f} MB/s ETA {eta:.0f}s "
        else:
            text = f"\r   {self.label} {_mb(self.done)} {rate / 1e6:.1f} MB/s "
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self._draw(time.monotonic())
            self.stream.write("\n")
        self.stream.flush()
