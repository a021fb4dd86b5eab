"""The region MAGIC works on: boxes in pixels, and the rule that grows both masks'
boxes by a context margin. The engine chooses its region with it, and the
plug-in crops exactly that region out of the layer before sending, so the two
always agree."""

from __future__ import annotations

import math
from typing import NamedTuple

from .limits import MIN_IMAGE_SIDE

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


def widened(box: Box, reach: float, width: int, height: int) -> Box:
    """`box` grown by `reach` times its own width and height on each side, within the image."""
    dx, dy = int(math.ceil(reach * box.width)), int(math.ceil(reach * box.height))
    return Box(max(0, box.left - dx), max(0, box.top - dy), min(width, box.right + dx), min(height, box.bottom + dy))


def region_rule_from_hello(info: dict) -> tuple:
    """(context_margin, min_context, min_side) the server announced, else the engine's defaults."""
    rule = (info or {}).get("region_rule") or {}
    limits = (info or {}).get("limits") or {}
    margin = rule.get("context_margin", CONTEXT_MARGIN)
    min_context = rule.get("min_context", MIN_CONTEXT)
    return float(margin), int(min_context), int(limits.get("min_side", MIN_IMAGE_SIDE))


def fill_reach_from_hello(info: dict) -> float:
    """How far beyond its region the server's engine looks to fill a hole (a share of the
    region's width and height); 0 for a server that does not say."""
    return float(((info or {}).get("region_rule") or {}).get("fill_reach", 0.0))


def crop_bytes(data, width: int, channels: int, box: Box) -> bytes:
    """Rows box.top..box.bottom, columns box.left..box.right of a row-major
    width-wide buffer with `channels` bytes per pixel."""
    view = memoryview(data)
    row = width * channels
    start, stop = box.left * channels, box.right * channels
    if start == 0 and stop == row:
        return bytes(view[box.top * row:box.bottom * row])
    return b"".join(view[y * row + start:y * row + stop] for y in range(box.top, box.bottom))


def paste_bytes(whole: bytearray, width: int, channels: int, box: Box, part) -> None:
    """Write `part` (box-sized, row-major, `channels` bytes per pixel) into the
    width-wide buffer `whole` at `box`: the reverse of crop_bytes."""
    view = memoryview(part)
    row, span = width * channels, box.width * channels
    for y in range(box.height):
        start = (box.top + y) * row + box.left * channels
        whole[start:start + span] = view[y * span:(y + 1) * span]
