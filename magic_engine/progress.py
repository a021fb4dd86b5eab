"""Progress reports of a run, and a terminal progress bar for the CLI."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from magic_common.phases import MASK_NET, REFINE, SYNTHESIS


@dataclass
class Progress:
    phase: str  # magic_common.phases.ENGINE_PHASES: mask_net, synthesis or refine
    step: int  # steps done in this phase
    total: int  # steps in this phase
    losses: dict = field(default_factory=dict)  # term -> float (unweighted), plus "total"
    elapsed_s: float = 0.0  # since the run started
    eta_s: float | None = None  # seconds left in the whole run, when known
    preview: object = None  # uint8 (h, w, 3) numpy image of the first variant, now and then

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0


def format_seconds(seconds) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class TerminalProgressBar:
    """A one-line bar, redrawn at most 10 times a second. On a non-terminal
    stream it prints a plain line every 10 % instead."""

    PHASE_LABELS = {MASK_NET: "mask net", SYNTHESIS: "synthesis", REFINE: "refine"}

    def __init__(self, stream=None, width: int = 28):
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = self.stream.isatty()
        self._last_draw = 0.0
        self._last_decile = {}

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        finished = p.step >= p.total
        if self.interactive:
            if not finished and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            filled = int(self.width * p.fraction)
            bar = "#" * filled + "-" * (self.width - filled)
            loss = f" loss {p.losses['total']:.3f}" if "total" in p.losses else ""
            line = (f"\r{self.PHASE_LABELS.get(p.phase, p.phase):>9} [{bar}] {p.step}/{p.total}"
                    f" {format_seconds(p.elapsed_s)} elapsed, {format_seconds(p.eta_s)} left{loss}")
            self.stream.write(line + ("\n" if finished else ""))
        else:
            decile = int(10 * p.fraction)
            if self._last_decile.get(p.phase) == decile:
                return
            self._last_decile[p.phase] = decile
            self.stream.write(f"{p.phase}: {p.step}/{p.total} ({100 * p.fraction:.0f} %), "
                              f"{format_seconds(p.eta_s)} left\n")
        self.stream.flush()
