"""Object intact: how much of a moved object arrives as itself.

A designer who moves an object wants that object, not a repainting of it:
the beak whole, the legs whole, the feathers as they were. The figure is the
share of the moved object's pixels, those farther inside the target's
outline than INSET of the image's diagonal (the outline itself may blend
into the new place; a small object's inset is halved until its middle
remains), that arrive within TOLERANCE grey levels (0..255, in
every channel) of the pixel they were moved from. 1 is a perfect move.

Only moves have it: the target must be the source shifted (a reshape has no
pixel-for-pixel correspondence). The shift is read off the masks' boxes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..masks import erode
from ..region import mask_box
from .baselines import pasted_selection

INSET = 0.005  # of the image's diagonal
TOLERANCE = 24
MIN_INNER = 64  # px: a smaller object's inset is halved until it keeps this many
SAME_SHAPE = 0.99  # the shifted source must cover this share of the target (IoU) to count as a move


def move_shift(source: np.ndarray, target: np.ndarray):
    """(dy, dx) that takes the source onto the target, or None when the target is not
    the source shifted (a reshape)."""
    left, top, _, _ = mask_box(source)
    t_left, t_top, _, _ = mask_box(target)
    dy, dx = t_top - top, t_left - left
    moved = np.zeros_like(target)
    height, width = source.shape
    rows, cols = np.nonzero(source)
    rows, cols = rows + dy, cols + dx
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    moved[rows[inside], cols[inside]] = True
    union = np.count_nonzero(moved | target)
    return (dy, dx) if union and np.count_nonzero(moved & target) / union >= SAME_SHAPE else None


def is_box_stretch(source: np.ndarray, target: np.ndarray) -> bool:
    """Whether the target is the source's shape scaled into the target's box (a paste
    scaled to the box reaches it exactly)."""
    scaled = pasted_selection(source, target)
    union = np.count_nonzero(scaled | target)
    return bool(union) and np.count_nonzero(scaled & target) / union >= SAME_SHAPE


def object_intact(image: np.ndarray, result: np.ndarray, source: np.ndarray, target: np.ndarray,
                  shift) -> float | None:
    """Share of the target's inner pixels in `result` (full-size uint8) within TOLERANCE
    of `image` `shift` (dy, dx) back; None without a shift or inner pixels."""
    if shift is None:
        return None
    height, width = target.shape
    inset = max(1, math.ceil(INSET * math.hypot(height, width)))
    mask = torch.from_numpy(np.ascontiguousarray(target))
    inner = erode(mask, inset).numpy()
    while np.count_nonzero(inner) < MIN_INNER and inset > 1:  # a small object: keep its middle
        inset //= 2
        inner = erode(mask, inset).numpy()
    rows, cols = np.nonzero(inner)
    from_rows, from_cols = rows - shift[0], cols - shift[1]
    inside = (from_rows >= 0) & (from_rows < height) & (from_cols >= 0) & (from_cols < width)
    if not inside.any():
        return None
    arrived = result[rows[inside], cols[inside], :3].astype(np.int16)
    moved = image[from_rows[inside], from_cols[inside], :3].astype(np.int16)
    return float(np.mean(np.abs(arrived - moved).max(axis=1) <= TOLERANCE))
