"""Masks as one byte per pixel (row-major): where their inside pixels are, and how
many. Standard library, faster with numpy where the Python has it (GIMP's may
not); the fallbacks use bytes.translate/find, which run in C and are fast enough
for large layers."""

from __future__ import annotations

from typing import Optional

from .limits import MASK_INSIDE
from .region import Box

try:  # optional: GIMP's Python may not have it
    import numpy
except ImportError:  # pragma: no cover - exercised by tests that hide numpy
    numpy = None

_TO_FLAG = bytes(1 if v >= MASK_INSIDE else 0 for v in range(256))  # bytes -> 0/1 (inside)


def mask_box(mask, width: int, height: int, inside_from: int = MASK_INSIDE) -> Optional[Box]:
    """Bounding box of the inside pixels (>= inside_from; 1: any not 0) of a width x
    height u8 mask, or None."""
    if len(mask) != width * height:
        raise ValueError(f"mask has {len(mask)} bytes, expected {width}x{height} = {width * height}")
    if numpy is not None:
        inside = numpy.frombuffer(mask, numpy.uint8).reshape(height, width) >= inside_from
        rows = numpy.flatnonzero(inside.any(axis=1))
        if rows.size == 0:
            return None
        cols = numpy.flatnonzero(inside.any(axis=0))
        return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    flags = bytes(mask).translate(_TO_FLAG if inside_from == MASK_INSIDE else
                                  bytes(1 if v >= inside_from else 0 for v in range(256)))
    left, right, top, bottom = width, 0, None, 0
    for y in range(height):
        row = flags[y * width:(y + 1) * width]
        first = row.find(1)
        if first < 0:
            continue
        if top is None:
            top = y
        bottom = y + 1
        left = min(left, first)
        right = max(right, row.rfind(1) + 1)
    if top is None:
        return None
    return Box(left, top, right, bottom)


def count_inside(mask) -> int:
    """Pixels inside a u8 mask (>= 128, the engine's rule)."""
    if numpy is not None:
        return int(numpy.count_nonzero(numpy.frombuffer(bytes(mask), numpy.uint8) >= MASK_INSIDE))
    return bytes(mask).translate(_TO_FLAG).count(1)
