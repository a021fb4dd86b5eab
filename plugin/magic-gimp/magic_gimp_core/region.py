"""Boxes in pixel coordinates and the crop sent to the server: the engine's own
region rule (magic_common.region), with the margins the server announces.

A Box is (left, top, right, bottom) with right/bottom exclusive. Masks are
read in layer coordinates; the image position of a layer pixel is the layer
offset plus its layer coordinate.
"""

from __future__ import annotations

from magic_common.limits import MIN_IMAGE_SIDE
from magic_common.region import CONTEXT_MARGIN, MIN_CONTEXT, Box, context_region  # noqa: F401 - the plug-in's region


def region_rule_from_hello(info: dict) -> tuple:
    """(context_margin, min_context, min_side) the server announced, else the engine's defaults."""
    rule = (info or {}).get("region_rule") or {}
    limits = (info or {}).get("limits") or {}
    margin = rule.get("context_margin", CONTEXT_MARGIN)
    min_context = rule.get("min_context", MIN_CONTEXT)
    return float(margin), int(min_context), int(limits.get("min_side", MIN_IMAGE_SIDE))


def crop_bytes(data, width: int, channels: int, box: Box) -> bytes:
    """Rows box.top..box.bottom, columns box.left..box.right of a row-major
    width-wide buffer with `channels` bytes per pixel."""
    view = memoryview(data)
    row = width * channels
    start, stop = box.left * channels, box.right * channels
    if start == 0 and stop == row:
        return bytes(view[box.top * row:box.bottom * row])
    return b"".join(view[y * row + start:y * row + stop] for y in range(box.top, box.bottom))
