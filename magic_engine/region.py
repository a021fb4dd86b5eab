"""Which part of the image MAGIC works on, at what resolution, and how the
results go back into the full-resolution image.

The region is the union of both masks' boxes plus a context margin, clamped
to the image. It is resized to about size*size pixels (aspect ratio kept,
never enlarged beyond its own resolution unless a side would fall below
`min_side`). Only the edited area (both masks, dilated and feathered)
changes in the composite; every other pixel is copied bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

_ROUND_TO = 8  # working sides are multiples of 8: tidy feature-map sizes


@dataclass(frozen=True)
class Region:
    left: int
    top: int
    right: int  # exclusive
    bottom: int  # exclusive
    work_width: int
    work_height: int
    aspect_changed: bool = False  # a side hit its limit: the region is stretched

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def slices(self):
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def to_dict(self) -> dict:
        return {
            "box": [self.left, self.top, self.width, self.height],
            "working_size": [self.work_width, self.work_height],
        }


def mask_box(mask: np.ndarray):
    """(left, top, right, bottom) of the True pixels, right/bottom exclusive."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        raise ValueError("mask is empty")
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _round_side(value: float, low: int, high: int) -> int:
    side = int(round(value / _ROUND_TO)) * _ROUND_TO
    return max(low, min(high, max(_ROUND_TO, side)))


def choose_region(source: np.ndarray, target: np.ndarray, size: int, min_side: int,
                  context_margin: float, min_context: int) -> Region:
    height, width = source.shape
    boxes = [mask_box(source), mask_box(target)]
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[2] for b in boxes)
    bottom = max(b[3] for b in boxes)
    margin = max(min_context, int(math.ceil(context_margin * max(right - left, bottom - top))))
    left, top = max(0, left - margin), max(0, top - margin)
    right, bottom = min(width, right + margin), min(height, bottom + margin)

    region_w, region_h = right - left, bottom - top
    scale = min(math.sqrt(size * size / (region_w * region_h)), 1.0)  # never enlarge...
    if min(region_w, region_h) * scale < min_side:
        scale = min_side / min(region_w, region_h)  # ...unless a side would be too small
    limit = 4 * size
    clamped = max(region_w, region_h) * scale > limit + _ROUND_TO
    work_w = _round_side(region_w * scale, min_side, limit)
    work_h = _round_side(region_h * scale, min_side, limit)
    return Region(left, top, right, bottom, work_w, work_h, clamped)


def resize_image(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8 (height, width, 3), antialiased."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb.copy()
    return np.array(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """bool (or 0..1 float) -> bool at the new size: area coverage thresholded at 50 %."""
    coverage = Image.fromarray(mask.astype(np.float32)).resize((width, height), Image.Resampling.BOX)
    return np.asarray(coverage) >= 0.5


def edit_weights(source: np.ndarray, target: np.ndarray, region: Region,
                 dilation: float, feather: float) -> np.ndarray:
    """float32 (region h, w) blend weight of the synthesised pixels: 1 on both
    masks and a dilation band around them, falling to exactly 0 over the
    feather band. Built at working resolution (cheap), then upsampled."""
    ys, xs = region.slices
    union_full = source[ys, xs] | target[ys, xs]
    union_work = _any_cover(union_full, region.work_width, region.work_height)
    diagonal = math.hypot(region.work_width, region.work_height)
    grow = max(1, int(round(dilation * diagonal)))
    soft = max(1, int(round(feather * diagonal / 2)))
    m = torch.from_numpy(union_work.astype(np.float32))[None, None]
    m = F.max_pool2d(m, 2 * (grow + soft) + 1, stride=1, padding=grow + soft)
    for _ in range(2):  # two box blurs: a smooth, tent-shaped ramp
        m = F.avg_pool2d(F.pad(m, (soft,) * 4, mode="replicate"), 2 * soft + 1, stride=1)
    weights = F.interpolate(m, size=(region.height, region.width), mode="bilinear", align_corners=False)[0, 0].numpy()
    weights = np.maximum(weights, union_full.astype(np.float32))
    weights[weights < 1.0 / 255] = 0.0
    weights[weights > 254.0 / 255] = 1.0
    return weights


def _any_cover(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """Working-resolution pixels that contain any masked full-resolution pixel,
    so thin masks are never lost when the region is scaled down."""
    coverage = Image.fromarray(mask.astype(np.float32)).resize((width, height), Image.Resampling.BOX)
    return np.asarray(coverage) > 0


def composite(rgb: np.ndarray, alpha, synthesized: np.ndarray, region: Region,
              weights: np.ndarray, rows_per_chunk: int = 512) -> np.ndarray:
    """Blend one working-resolution result into a copy of the full image.

    Pixels with weight 0 (everything outside the edited area) are copied
    exactly. Output is (H, W, 3), or (H, W, 4) when the input had alpha; the
    edited area becomes opaque.
    """
    full = rgb if alpha is None else np.concatenate([rgb, alpha[:, :, None]], axis=2)
    out = full.copy()
    patch = np.asarray(Image.fromarray(synthesized).resize((region.width, region.height), Image.Resampling.BICUBIC))
    if alpha is not None:
        patch = np.concatenate([patch, np.full(patch.shape[:2] + (1,), 255, np.uint8)], axis=2)
    for start in range(0, region.height, rows_per_chunk):
        stop = min(region.height, start + rows_per_chunk)
        w = weights[start:stop, :, None]
        rows = slice(region.top + start, region.top + stop)
        cols = slice(region.left, region.right)
        base = full[rows, cols].astype(np.float32)
        blended = np.rint(base + (patch[start:stop].astype(np.float32) - base) * w).astype(np.uint8)
        out[rows, cols] = np.where(w > 0, blended, full[rows, cols])
    return out
