"""Run blocking work (network I/O) in a worker thread while the calling
thread keeps ticking: GIMP's progress bar and our dialog are driven from
the main thread, because libgimp and GTK must only be called from there."""

from __future__ import annotations

import threading
from typing import Callable, Optional

TICK_S = 0.05


class Abandoned(Exception):
    """The caller stopped waiting (the user cancelled); the worker thread is
    left to finish on its own (it is a daemon thread)."""


def call_in_background(work: Callable, tick: Callable[[], None], should_abandon: Optional[Callable[[], bool]] = None,
                       interval: float = TICK_S, name: str = "magic-worker"):
    """work() in a daemon thread; tick() on this thread every `interval`
    seconds until it ends. Returns work()'s value or raises its exception
    here; raises Abandoned if should_abandon() turns true first."""
    box = {}

    def target():
        try:
            box["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    while True:
        thread.join(interval)
        tick()
        if not thread.is_alive():
            break
        if should_abandon is not None and should_abandon():
            raise Abandoned()
    if "error" in box:
        raise box["error"]
    return box.get("value")

