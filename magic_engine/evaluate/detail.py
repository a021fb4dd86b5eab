"""Fine detail: how much of the photo's own sharpness an edit keeps, at full resolution.

The figure is the high-pass amplitude of the luminance: the median of
|luminance - its Gaussian blur (sigma 1 px)|, in 0..255 units, over the pixels
of a mask shrunk by 2 px (so the outline between object and background, which
is sharp in any paste, does not count). The median is the typical pixel's
fine detail: a few strong edges (a street light, a strut, a seam left by a
heal) neither make a blurry fill look textured nor a clean one look blurry.
A result that was synthesised small and scaled up has a fraction of the
photo's amplitude; a copy of the photo's own pixels has all of it.

- object detail = amplitude inside the target in the result / inside the source in the input
- hole texture = amplitude in the vacated area in the result / in the input's
  background around it (a ring outside both masks as wide as the vacated area's
  box is narrow, at least RING_MIN px): 1 means the hole is as textured as
  what surrounds it, below 1 blurrier, above 1 noisier. Both amplitudes of a
  ratio are lifted by half a grey level (the 8-bit floor). Not reported where the
  object leaves almost nothing behind (less than MIN_HOLE_SHARE of the source,
  as when an object only grows).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..masks import dilate, erode

SIGMA = 1.0
EDGE = 2  # px shrunk off every mask
RING_MIN = 16
MIN_PIXELS = 16  # fewer and the figure is not reported
MIN_HOLE_SHARE = 0.05
QUANTISATION_FLOOR = 0.5  # grey levels (0..255) added to both amplitudes of a ratio

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = int(np.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-x * x / (2 * sigma * sigma))
    return kernel / kernel.sum()


def high_pass(rgb: np.ndarray) -> np.ndarray:
    """float32 (H, W): luminance minus its Gaussian blur (sigma SIGMA), 0..255 units."""
    luma = torch.from_numpy(np.ascontiguousarray(rgb[..., :3], np.float32) @ _LUMA)[None, None]
    kernel = _gaussian_kernel(SIGMA)
    radius = len(kernel) // 2
    blurred = F.pad(luma, (radius,) * 4, mode="replicate")
    blurred = F.conv2d(blurred, kernel.view(1, 1, 1, -1))
    blurred = F.conv2d(blurred, kernel.view(1, 1, -1, 1))
    return (luma - blurred)[0, 0].numpy()


def _shrink(mask: np.ndarray, radius: int) -> np.ndarray:
    return erode(torch.from_numpy(np.asarray(mask, bool)), radius).numpy()


def _grow(mask: np.ndarray, radius: int) -> np.ndarray:
    return dilate(torch.from_numpy(np.asarray(mask, bool)), radius).numpy()


def amplitude(rgb: np.ndarray, mask: np.ndarray, high: np.ndarray | None = None) -> float | None:
    """Median absolute high-pass of `rgb` over `mask` shrunk by EDGE px; None if too few pixels."""
    inner = _shrink(mask, EDGE)
    if np.count_nonzero(inner) < MIN_PIXELS:
        return None
    values = (high if high is not None else high_pass(rgb))[inner]
    return float(np.median(np.abs(values)))


def surroundings(area: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """bool: a ring around `area`, outside `exclude` (both masks, grown by EDGE px)."""
    rows = np.flatnonzero(area.any(axis=1))
    cols = np.flatnonzero(area.any(axis=0))
    narrow = min(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) if len(rows) else 0
    return _grow(area, max(RING_MIN, int(narrow))) & ~_grow(exclude, EDGE)


def ratio(numerator, denominator):
    """numerator / denominator, both lifted by QUANTISATION_FLOOR: detail finer than
    half a grey level cannot be told apart in an 8-bit image, so two flat skies
    compare as alike (about 1) instead of as 0 / 0."""
    if numerator is None or denominator is None:
        return None
    return (numerator + QUANTISATION_FLOOR) / (denominator + QUANTISATION_FLOOR)
