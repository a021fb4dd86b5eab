"""Logging of refused requests, rate-limited: a client stuck in a loop of bad
requests (or without the token) must not fill the disk with log lines."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("magic_server.app")

WINDOW_S = 60.0
LINES_PER_WINDOW = 20


class RefusalLog:
    """At most LINES_PER_WINDOW lines per WINDOW_S; then one line saying how
    many more were refused, when the window ends."""

    def __init__(self, window_s: float = WINDOW_S, lines: int = LINES_PER_WINDOW, clock=time.monotonic):
        self.window_s, self.lines, self.clock = window_s, lines, clock
        self.window_start = clock()
        self.logged = self.suppressed = 0
        self.codes: dict = {}

    def log(self, code: str, message: str) -> None:
        now = self.clock()
        if now - self.window_start >= self.window_s:
            self._summarise()
            self.window_start, self.logged = now, 0
        if self.logged < self.lines:
            self.logged += 1
            log.info("refused a request: %s: %s", code, message)
        else:
            self.suppressed += 1
            self.codes[code] = self.codes.get(code, 0) + 1

    def _summarise(self) -> None:
        if self.suppressed:
            counts = ", ".join(f"{code} {n}" for code, n in sorted(self.codes.items()))
            log.info("refused %d more requests in the last %.0f s without logging each (%s)",
                     self.suppressed, self.window_s, counts)
        self.suppressed, self.codes = 0, {}
