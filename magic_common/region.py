"""The region MAGIC works on: boxes in pixels, and the rule that grows both masks'
boxes by a context margin. The engine chooses its region with it, and the
plug-in crops exactly that region out of the layer before sending, so the two
always agree."""

from __future__ import annotations

import math
from typing import NamedTuple

CONTEXT_MARGIN = 0.25  # of the long side of both masks' box, on every side...
MIN_CONTEXT = 16  # ...and at least this many pixels


class Box(NamedTuple):
    """(left, top, right, bottom) in pixels, right and bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def diagonal(self) -> float:
        return math.hypot(self.width, self.height)

    @property
    def slices(self) -> tuple:
        """(rows, columns) to index a (height, width, ...) array with."""
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def union(self, other: "Box") -> "Box":
        return Box(min(self.left, other.left), min(self.top, other.top),
                   max(self.right, other.right), max(self.bottom, other.bottom))


def context_region(source: Box, target: Box, width: int, height: int, context_margin: float = CONTEXT_MARGIN,
                   min_context: int = MIN_CONTEXT) -> Box:
    """The union of both masks' boxes grown by max(min_context, ceil(context_margin *
    its long side)) on every side, within the width x height image."""
    box = source.union(target)
    margin = max(min_context, int(math.ceil(context_margin * max(box.width, box.height))))
    return Box(max(0, box.left - margin), max(0, box.top - margin),
               min(width, box.right + margin), min(height, box.bottom + margin))
