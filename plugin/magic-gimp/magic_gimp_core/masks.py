"""Masks as one byte per pixel: how to read them from GIMP without changing
their values, where they are, and the layer mask derived from the server's
edit mask.

A pixel is inside a mask when its value is at least MASK_INSIDE (128), the
engine's own rule (magic_common.limits).
numpy makes the scans faster when GIMP's Python has it; the fallbacks use
bytes.translate/find, which run in C and are fast enough for large layers.
"""

from __future__ import annotations

from typing import Optional

from magic_common.limits import MASK_INSIDE

from .region import Box

try:  # optional: GIMP's Python may not have it
    import numpy
except ImportError:  # pragma: no cover - exercised by tests that hide numpy
    numpy = None

# bytes -> 0/1 (inside) and 0/255 (binary mask) lookup tables
_TO_FLAG = bytes(1 if v >= MASK_INSIDE else 0 for v in range(256))
_ANY_TO_255 = bytes(255 if v > 0 else 0 for v in range(256))


def mask_read_format(encoding: Optional[str], precision_name: Optional[str] = None) -> str:
    """The babl format to read a channel in so its values come back as stored.

    Channels of 8-bit non-linear images are stored as "Y' u8"; reading them
    as "Y u8" would run the values through the sRGB curve (a painted 188
    reads as 128). So read with the same curve (Y' non-linear, Y~
    perceptual, Y linear) as the stored encoding, at u8 (u16 and float scale
    to u8 without a curve change). `encoding` is babl's name for the
    channel's format ("Y' u8", "Y u16", "Y float"...); without it the image
    precision decides: GIMP 3.0.4 stores channels of non-linear precisions
    as Y' and all others, perceptual ones included, as Y. """
    if encoding:
        model = encoding.split()[0]
        return f"{model} u8" if model in ("Y'", "Y~") else "Y u8"
    if precision_name and precision_name.upper().endswith("NON_LINEAR"):
        return "Y' u8"
    return "Y u8"


def mask_box(mask, width: int, height: int) -> Optional[Box]:
    """Bounding box of the inside pixels of a width x height u8 mask, or None."""
    if len(mask) != width * height:
        raise ValueError(f"mask has {len(mask)} bytes, expected {width}x{height} = {width * height}")
    if numpy is not None:
        inside = numpy.frombuffer(mask, numpy.uint8).reshape(height, width) >= MASK_INSIDE
        rows = numpy.flatnonzero(inside.any(axis=1))
        if rows.size == 0:
            return None
        cols = numpy.flatnonzero(inside.any(axis=0))
        return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    flags = bytes(mask).translate(_TO_FLAG)
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


def binary_layer_mask(edit_mask) -> bytes:
    """255 wherever the server changed pixels (edit mask > 0), else 0.

    The result layers already hold the engine's blend (its soft edge
    included), so a binary layer mask shows exactly that blend and leaves
    every pixel outside the edited area to the layers below, unchanged."""
    return bytes(edit_mask).translate(_ANY_TO_255)
