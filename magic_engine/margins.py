"""The object's loose margins, faded into its new place.

A designer selects loosely: an ellipse around a dandelion takes a disc of
its dark meadow along. Moved, that disc lands on other grass as a dark
sticker with a crisp outline. Where the source's outline runs through
background (the photo is alike on both sides of it), the result fades
into the photo at the new place over a narrow band inside the target, as
a feathered selection would; where the outline follows the object's own
edge (a rocket against the sky), nothing fades. Pixels unlike the
background behind the object (guessed smoothly from around the source) stay
opaque, so a beak or a stem inside the band is kept.

Only the photo's own pixels at the new place are faded in: never where the
target lies on the object's old footprint, whose background is synthesised.
"""

from __future__ import annotations

import math

import torch

from .clone import smooth_fill
from .masks import box_blur, dilate, erode
from .region import blend_weights
from .warp import variant_spread, warp_coordinates

SIDE = 3  # px on each side of the source's outline that are compared
LOOSE_TONE = 0.06  # mean RGB difference across the outline below which it runs through background
UNLIKE_BACKGROUND = 0.1  # a pixel this far (mean RGB) from the background behind the object stays opaque
FADE_SHARE = 0.05  # the band's width: this share of the square root of the target's area


def _side_mean(image: torch.Tensor, side: torch.Tensor, radius: int):
    """(3, h, w) mean of `image` over the `side` pixels within `radius`, and where there were any."""
    count = box_blur(side.float(), radius)
    total = torch.stack([box_blur(channel * side, radius) for channel in image])
    return total / count.clamp_min(1e-6), count > 0


def _loose_outline(photo: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """(h, w) float in [0, 1] over the source: 1 near stretches of its outline that run
    through background, 0 near those that follow the object's edge, smooth between."""
    inside, _ = _side_mean(photo, source & ~erode(source, SIDE), SIDE)
    outside, has_outside = _side_mean(photo, dilate(source, SIDE) & ~source, SIDE)
    outline = source & ~erode(source, 1) & has_outside
    if not outline.any():  # the object fills the region: nothing around it to compare
        return torch.zeros(source.shape, device=photo.device)
    loose = ((inside - outside).abs().mean(0) <= LOOSE_TONE).float()
    return smooth_fill(torch.where(outline, loose, 0.0)[None], outline)[0]


def _fading(photo: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """(h, w) float in [0, 1] over the source: how far each of its pixels may fade
    (near a loose stretch of outline, and like the background behind the object)."""
    behind = smooth_fill(photo, ~source)
    unlike = ((photo - behind).abs().mean(0) / UNLIKE_BACKGROUND).clamp(0, 1)
    return _loose_outline(photo, source) * (1 - unlike)


def _fades(photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor, spreads) -> list:
    """One (h, w) fade per spread (see fade_weights); what no spread changes is computed once."""
    if not target.any() or not source.any():
        return [torch.zeros(target.shape, device=photo.device) for _ in spreads]
    fading = _fading(photo, source)
    band = max(1, round(FADE_SHARE * math.sqrt(float(target.sum()))))
    near_outline = (1 - blend_weights(target, band))  # 1 at the target's outline, 0 a band inside
    near_outline = near_outline * blend_weights(~dilate(source, SIDE), band)  # the photo there is the new place's own
    near_outline = torch.where(target, near_outline, torch.zeros_like(near_outline))
    height, width = target.shape
    fades = []
    for spread in spreads:
        rows, cols = warp_coordinates(source, target, spread)
        rows = rows.round().long().clamp(0, height - 1)[:, None].expand(height, width)
        cols = cols.round().long().clamp(0, width - 1)
        fades.append(fading[rows, cols] * near_outline)
    return fades


def fade_weights(photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                 spread: float = 0.0) -> torch.Tensor:
    """(h, w) float in [0, 1]: how much of the photo shows through each pixel of a
    result whose object was warped with `spread`; 0 outside the target."""
    return _fades(photo, source, target, [spread])[0]


def fade_margins(results: torch.Tensor, photo: torch.Tensor, source: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) results with the object's loose margins faded into `photo`
    (each variant with its own stretch, see warp.variant_spread)."""
    fades = _fades(photo, source, target, [variant_spread(variant) for variant in range(len(results))])
    return torch.stack([result * (1 - fade) + photo * fade for result, fade in zip(results, fades)])
