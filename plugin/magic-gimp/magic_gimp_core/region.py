"""Boxes in pixel coordinates and the crop sent to the server.

A Box is (left, top, right, bottom) with right/bottom exclusive. Masks are
read in layer coordinates; the image position of a layer pixel is the layer
offset plus its layer coordinate.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from magic_common.limits import MIN_IMAGE_SIDE

# The engine's and the protocol's defaults, used when the server's hello
# does not announce its own.
DEFAULT_CONTEXT_MARGIN = 0.25
DEFAULT_MIN_CONTEXT = 16
DEFAULT_MIN_SIDE = MIN_IMAGE_SIDE  # the server refuses images with a smaller side


class Box(NamedTuple):
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

    def union(self, other: "Box") -> "Box":
        return Box(min(self.left, other.left), min(self.top, other.top),
                   max(self.right, other.right), max(self.bottom, other.bottom))


def region_rule_from_hello(info: dict) -> tuple:
    """(context_margin, min_context, min_side) the server announced, else the defaults."""
    rule = (info or {}).get("region_rule") or {}
    limits = (info or {}).get("limits") or {}
    margin = rule.get("context_margin", DEFAULT_CONTEXT_MARGIN)
    min_context = rule.get("min_context", DEFAULT_MIN_CONTEXT)
    return float(margin), int(min_context), int(limits.get("min_side", DEFAULT_MIN_SIDE))


def context_region(source: Box, target: Box, width: int, height: int,
                   context_margin: float = DEFAULT_CONTEXT_MARGIN,
                   min_context: int = DEFAULT_MIN_CONTEXT) -> Box:
    """The engine's region rule: union of both mask boxes, grown by
    max(min_context, ceil(context_margin * long side)), clamped to the
    width x height layer. Sending exactly this crop gives the engine all
    the context it would use on the whole layer, and nothing more."""
    box = source.union(target)
    margin = max(min_context, int(math.ceil(context_margin * max(box.width, box.height))))
    return Box(max(0, box.left - margin), max(0, box.top - margin),
               min(width, box.right + margin), min(height, box.bottom + margin))


def crop_bytes(data, width: int, channels: int, box: Box) -> bytes:
    """Rows box.top..box.bottom, columns box.left..box.right of a row-major
    width-wide buffer with `channels` bytes per pixel."""
    view = memoryview(data)
    row = width * channels
    start, stop = box.left * channels, box.right * channels
    if start == 0 and stop == row:
        return bytes(view[box.top * row:box.bottom * row])
    return b"".join(view[y * row + start:y * row + stop] for y in range(box.top, box.bottom))
