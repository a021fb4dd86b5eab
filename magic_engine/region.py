"""Which part of the photo MAGIC works on, which of its pixels may change, and
how the result goes back into the photo.

The region is the union of both masks' boxes plus a context margin, clamped
to the image; the engine synthesises it at its own resolution (see
pyramid.py for the coarser levels on the way). The edit area is both masks
grown by a band (`edit_dilation` of the diagonal of the region each mask would
have alone, `object_diagonal`), so an object's
rim, glow and loose mask edges go with it. Only the edit area changes; every
other pixel is copied bit for bit. Because the synthesis keeps the photo's
own pixels around the edit at every level, the blend into the photo needs
only a narrow feather, inside the edit area.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from magic_common.masks import mask_box as shared_mask_box
from magic_common.region import Box, context_region

from .masks import box_blur, dilate, erode


# What a selection drawn by hand misses of its object's edge however small the object
# (antialiasing, a JPEG's ringing, a slip of the hand): px beyond both masks replaced
# whole, before the blend's ramp begins.
MISSED_EDGE = 3


def region_report(region: Box) -> dict:
    """The region as the run's report gives it: {"box": [left, top, width, height]}."""
    return {"box": [region.left, region.top, region.width, region.height]}


def mask_box(mask: np.ndarray):
    """(left, top, right, bottom) of the True pixels of a 2-D mask, right/bottom exclusive
    (magic_common.masks.mask_box, the one scan every part uses)."""
    height, width = mask.shape
    box = shared_mask_box(np.ascontiguousarray(mask, dtype=np.uint8).reshape(-1), width, height, inside_from=1)
    if box is None:
        raise ValueError("mask is empty")
    return box.left, box.top, box.right, box.bottom


def choose_region(source: np.ndarray, target: np.ndarray, context_margin: float, min_context: int) -> Box:
    """Where MAGIC works: the shared region rule (magic_common.region) on both masks."""
    height, width = source.shape
    return context_region(Box(*mask_box(source)), Box(*mask_box(target)), width, height, context_margin,
                          min_context)


def object_diagonal(source: np.ndarray, target: np.ndarray, context_margin: float, min_context: int) -> float:
    """The diagonal of the larger of the regions each mask (bool, full image) would have
    alone: the scale of the edit's band and feather. What a selection misses of its
    object (a glow, a shadow's edge) scales with the object, not with how far it moves:
    of the region spanning both places, a 30 px post moved 560 px would leave a hole
    20 px wider on every side."""
    return max(choose_region(mask, mask, context_margin, min_context).diagonal for mask in (source, target))


def edit_band(diagonal: float, dilation: float, feather: int) -> int:
    """Pixels the edit area reaches beyond both masks: `dilation` of the `object_diagonal`,
    and at least MISSED_EDGE beyond the ramp of a blend over `feather` px."""
    return max(int(round(dilation * diagonal)), MISSED_EDGE + ramp_width(feather))


def feather_width(diagonal: float, feather: float) -> int:
    """Pixels over which the result fades into the photo at the edit area's edge:
    `feather` of the `object_diagonal` (a share well under the band's, so both masks
    are replaced whole)."""
    return max(1, int(round(feather * diagonal)))


def edit_margins(source: np.ndarray, target: np.ndarray, dilation: float, feather: float, context_margin: float,
                 min_context: int) -> tuple:
    """(band, feather) in px for bool full-image masks: `edit_band` and `feather_width`
    of their `object_diagonal`, as every edit and the baselines beside it use them."""
    diagonal = object_diagonal(source, target, context_margin, min_context)
    feather_px = feather_width(diagonal, feather)
    return edit_band(diagonal, dilation, feather_px), feather_px


def edit_area(source: torch.Tensor, target: torch.Tensor, band: int) -> torch.Tensor:
    """bool (h, w) pixels of the region that may change: both masks grown by `band`."""
    return dilate(source | target, band)


def _ramp_radii(feather: int) -> tuple:
    """(erosion, first blur, second blur) radii of `blend_weights`' ramp."""
    half = max(1, feather // 2)
    return half, max(1, half // 2), max(1, half - half // 2)


def ramp_width(feather: int) -> int:
    """Pixels inside the edit area's edge over which `blend_weights` may be below 1 (a
    wide ramp's last pixel rounds to 1)."""
    return sum(_ramp_radii(feather))


def blend_weights(area: torch.Tensor, feather: int) -> torch.Tensor:
    """float32 (h, w): 1 inside the edit area, fading to exactly 0 at its edge over
    about `feather` pixels (the area shrunk by half of it, then blurred by
    the other half twice: a smooth ramp that ends at the edge), 0 outside."""
    half, first, second = _ramp_radii(feather)
    inner = erode(area, half).float()
    ramp = box_blur(box_blur(inner, first), second)
    weights = torch.where(area, ramp, torch.zeros_like(ramp))
    weights[weights < 1.0 / 255] = 0.0
    weights[weights > 254.0 / 255] = 1.0
    return weights


def composite(rgb: np.ndarray, alpha, result: np.ndarray, region: Box, weights: np.ndarray,
              result_alpha: np.ndarray | None = None, rows_per_chunk: int = 512) -> np.ndarray:
    """Blend one region-sized result (uint8 (h, w, 3)) into a copy of the full image.

    Pixels with weight 0 (everything outside the edit area) are copied
    exactly. Output is (H, W, 3), or (H, W, 4) when the input had alpha; the
    result's alpha is `result_alpha` (uint8 (h, w); opaque where not given).
    """
    full = rgb if alpha is None else np.concatenate([rgb, alpha[:, :, None]], axis=2)
    out = full.copy()
    patch = result
    if alpha is not None:
        if result_alpha is None:
            result_alpha = np.full(patch.shape[:2], 255, np.uint8)
        patch = np.concatenate([patch, result_alpha[:, :, None]], axis=2)
    for start in range(0, region.height, rows_per_chunk):
        stop = min(region.height, start + rows_per_chunk)
        w = weights[start:stop, :, None]
        rows = slice(region.top + start, region.top + stop)
        cols = slice(region.left, region.right)
        base = full[rows, cols].astype(np.float32)
        blended = np.rint(base + (patch[start:stop].astype(np.float32) - base) * w).astype(np.uint8)
        out[rows, cols] = np.where(w > 0, blended, full[rows, cols])
    return out


def edit_weights(source: np.ndarray, target: np.ndarray, region: Box, dilation: float, feather: float,
                 context_margin: float, min_context: int) -> np.ndarray:
    """float32 (region h, w) blend weights for bool full-image masks: what `synthesize` uses."""
    ys, xs = region.slices
    band, feather_px = edit_margins(source, target, dilation, feather, context_margin, min_context)
    area = edit_area(torch.from_numpy(np.ascontiguousarray(source[ys, xs])),
                     torch.from_numpy(np.ascontiguousarray(target[ys, xs])), band)
    return blend_weights(area, feather_px).numpy()
