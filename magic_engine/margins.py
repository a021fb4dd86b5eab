"""The object's loose margins, faded into its new place.

A designer selects loosely: an ellipse around a dandelion takes a disc of
its dark meadow along. Moved, that disc lands on other grass as a dark
sticker with a crisp outline. Where the source's outline runs through
background (the photo is alike on both sides of it), the result fades
into the background at the new place over a narrow band inside the target,
as a feathered selection would; where the outline follows the object's own
edge (a rocket against the sky), nothing fades. A result pixel unlike the
background behind the object (guessed smoothly from beyond a band around
the source, at the place the pixel was warped from) stays opaque, so a beak
or a stem inside the band is kept even where the refinement moved it a
pixel, and so is a blurred object's glow, which spills past a tight
selection: it belongs to the object.

Where the target lies on the object's old place, the margin fades into the
background the refinement made there (the footprint filled as if the object
were removed); without one, only where the photo at the new place is
background.
"""

from __future__ import annotations

import math

import torch

from .smooth import smooth_fill
from .masks import dilate, erode, masked_mean
from .region import blend_weights
from .warp import variant_spread, warp_coordinates

SIDE = 3  # px on each side of the source's outline that are compared
LOOSE_TONE = 0.05  # mean RGB difference across the outline up to which it runs through background...
TIGHT_TONE = 0.08  # ...and from which it follows the object's edge (a ramp between)
UNLIKE_BACKGROUND = 0.1  # a result pixel this far (mean RGB) from the background behind it stays opaque
FADE_SHARE = 0.05  # the band's width: this share of the square root of the target's area...
THIN_SHARE = 1 / 3  # ...and at most this share of the target's thickness


def outline_looseness(photo: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """(h, w) float in [0, 1] over the region: 1 near stretches of the source's outline
    that run through background (the photo alike across it), 0 near stretches that
    follow the object's edge; averaged along the outline, so speckled grass does not
    leave a dotted edge, and spread smoothly from the outline everywhere else."""
    outline = source & ~erode(source, 1)
    if not outline.any() or source.all():
        return torch.zeros(source.shape, device=photo.device)
    inside = masked_mean(photo, source & ~erode(source, SIDE), SIDE)
    outside = masked_mean(photo, dilate(source, SIDE) & ~source, SIDE)
    across = (inside - outside).abs().mean(0)
    loose = ((TIGHT_TONE - across) / (TIGHT_TONE - LOOSE_TONE)).clamp(0, 1) * outline
    along = masked_mean(loose[None], outline, 2 * SIDE)[0]
    return smooth_fill(torch.where(outline, along, 0.0)[None], outline)[0]


def band_width(target: torch.Tensor) -> int:
    """px over which a result fades at the target's outline: FADE_SHARE of the square
    root of its area, at most THIN_SHARE of its thickness (a tiny target keeps its middle)."""
    band = max(1, round(FADE_SHARE * math.sqrt(float(target.sum()))))
    while band > 1 and not erode(target, math.ceil(band / THIN_SHARE / 2)).any():
        band -= 1
    return band


def _near_outline(source: torch.Tensor, target: torch.Tensor, filled: torch.Tensor | None) -> torch.Tensor:
    """(h, w) float in [0, 1]: 1 at the target's outline, 0 a band inside it and outside
    the target, and 0 near the old object wherever the background there is the photo's
    own (`filled`: bool, where a background was made instead; None: nowhere), which may
    still hold the object (the same for every variant)."""
    band = band_width(target)
    at_outline = 1 - blend_weights(target, band)
    near_old = dilate(source, SIDE)
    if filled is not None:
        near_old &= ~filled
    at_outline = at_outline * blend_weights(~near_old, band)
    return torch.where(target, at_outline, torch.zeros_like(at_outline))


def background_behind(photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(3, h, w) the background guessed behind the object: `photo` filled smoothly over the
    source and a band around it (the target's fade band, `band_width`) from the pixels
    beyond, so a blurred object's glow, which spills past a tight selection, counts as
    the object's and is not faded away. Where nothing lies beyond the band (an object
    that nearly fills the region), from the pixels right outside the source."""
    beyond = ~dilate(source, band_width(target))
    return smooth_fill(photo, beyond if beyond.any() else ~source)


def _fade(result: torch.Tensor, source: torch.Tensor, target: torch.Tensor, spread: float,
          looseness: torch.Tensor, behind: torch.Tensor, near_outline: torch.Tensor) -> torch.Tensor:
    height, width = target.shape
    rows, cols = warp_coordinates(source, target, spread)
    rows = rows.round().long().clamp(0, height - 1)[:, None].expand(height, width)
    cols = cols.round().long().clamp(0, width - 1)
    unlike = ((result - behind[:, rows, cols]).abs().mean(0) / UNLIKE_BACKGROUND).clamp(0, 1)
    return looseness[rows, cols] * (1 - unlike) * near_outline


def fade_weights(result: torch.Tensor, photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                 spread: float = 0.0) -> torch.Tensor:
    """(h, w) float in [0, 1]: how much of `photo` shows through each pixel of `result`
    (3, h, w), whose object was warped with `spread`; 0 outside the target.
    A result pixel unlike the background guessed behind the object
    (`background_behind`) at the place it was warped from stays opaque."""
    if not target.any() or not source.any():
        return torch.zeros(target.shape, device=photo.device)
    return _fade(result, source, target, spread, outline_looseness(photo, source),
                 background_behind(photo, source, target), _near_outline(source, target, None))


def fade_margins(results: torch.Tensor, photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                 backgrounds: torch.Tensor | None = None, footprint: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 3, h, w) results with the object's loose margins faded into their
    `backgrounds` (B, 3, h, w: each result without its object, the old `footprint`
    (bool) filled), or, without, into `photo` away from the old object only (each
    variant with its own stretch, see warp.variant_spread)."""
    if not target.any() or not source.any():
        return results
    # What no variant changes is computed once.
    looseness, behind = outline_looseness(photo, source), background_behind(photo, source, target)
    near_outline = _near_outline(source, target, None if backgrounds is None else footprint)
    faded = []
    for variant, result in enumerate(results):
        fade = _fade(result, source, target, variant_spread(variant), looseness, behind, near_outline)
        background = photo if backgrounds is None else backgrounds[variant]
        faded.append(result * (1 - fade) + background * fade)
    return torch.stack(faded)
