"""The object's loose margins, faded into its new place.

A designer selects loosely: an ellipse around a dandelion takes a disc of
its dark meadow along. Moved, that disc lands on other grass as a dark
sticker with a crisp outline. Where the source's outline runs through
background (the photo is alike on both sides of it), the result fades
into the photo at the new place over a narrow band inside the target, as
a feathered selection would; where the outline follows the object's own
edge (a rocket against the sky), nothing fades. A result pixel unlike the
background behind the object (guessed smoothly from beyond a band around
the source, at the place the pixel was warped from) stays opaque, so a beak
or a stem inside the band is kept even where the refinement moved it a
pixel, and so is a blurred object's glow, which spills past a tight
selection: it belongs to the object.

Only the photo's own pixels at the new place are faded in: never where the
target lies on the object's old footprint, whose background is synthesised.

Where the outline follows the object's edge, its pixels there are partly the
old background: an anti-aliased rim, a blurred wing, hair. Moved as they are,
they bring a halo of the old background along. Each such pixel C is read as a
mix of the object's colour F (spread smoothly from inside the object) and the
background B behind it, C = a F + (1 - a) B, which gives its share a; at the
new place the old background's share is replaced by the new one's, C + (1 - a)
(B_new - B), as a compositor does with a matte. Where F and B are too alike to
tell apart, the pixel is left as it is.
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
UNMIX_CONTRAST = (0.06, 0.12)  # mean RGB |F - B| from which a pixel's share of F is read, and fully trusted
UNMIX_OFF_LINE = (0.03, 0.08)  # mean RGB distance of C from any mix of F and B up to which it is one, and from
# which it is not (a leg of another colour than the body the front is spread from: the object's own)
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


def _near_outline(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(h, w) float in [0, 1]: 1 at the target's outline, 0 a band inside it, on the old
    footprint and outside the target (the same for every variant)."""
    band = band_width(target)
    at_outline = 1 - blend_weights(target, band)
    at_new_place = blend_weights(~dilate(source, SIDE), band)
    return torch.where(target, at_outline * at_new_place, torch.zeros_like(at_outline))


def _rim(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(h, w) float in [0, 1]: where the object's rim may be unmixed from its old
    background: 1 within the fade band of the target's outline, tapering to 0 over as
    much again further in (deeper, the object's own shading and texture could read as
    background); 0 on the old footprint and outside the target."""
    band = band_width(target)
    inner = erode(target, band)
    taper = 1 - blend_weights(inner, band) if inner.any() else torch.ones(target.shape, device=target.device)
    at_new_place = blend_weights(~dilate(source, SIDE), band)
    return torch.where(target, taper * at_new_place, torch.zeros_like(taper))


def background_behind(photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(3, h, w) the background guessed behind the object: `photo` filled smoothly over the
    source and a band around it (the target's fade band, `band_width`) from the pixels
    beyond, so a blurred object's glow, which spills past a tight selection, counts as
    the object's and is not faded away. Where nothing lies beyond the band (an object
    that nearly fills the region), from the pixels right outside the source."""
    beyond = ~dilate(source, band_width(target))
    return smooth_fill(photo, beyond if beyond.any() else ~source)


def object_in_front(photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(3, h, w) the object's own colours spread smoothly outwards from its inside beyond
    the fade band: what a pixel at its outline would be if the object covered it whole."""
    core = erode(source, band_width(target))
    return smooth_fill(photo, core if core.any() else source)


def _warped_from(source: torch.Tensor, target: torch.Tensor, spread: float) -> tuple:
    """(rows, cols), each (h, w): the source pixel each target pixel was warped from."""
    height, width = target.shape
    rows, cols = warp_coordinates(source, target, spread)
    rows = rows.round().long().clamp(0, height - 1)[:, None].expand(height, width)
    return rows, cols.round().long().clamp(0, width - 1)


def _fade(result: torch.Tensor, looseness: torch.Tensor, behind: torch.Tensor, near_outline: torch.Tensor,
          rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    unlike = ((result - behind[:, rows, cols]).abs().mean(0) / UNLIKE_BACKGROUND).clamp(0, 1)
    return looseness[rows, cols] * (1 - unlike) * near_outline


def background_share(result: torch.Tensor, behind: torch.Tensor, front: torch.Tensor) -> torch.Tensor:
    """(h, w) in [0, 1]: how much of each `result` pixel is the background `behind` it
    rather than the object `front` of it (C = a F + (1 - a) B: the share 1 - a); 0 where
    F and B are too alike to tell (UNMIX_CONTRAST), and where C is no mix of them at all
    (UNMIX_OFF_LINE: a thin part of another colour, a beak, a leg, belongs to the object)."""
    contrast = front - behind
    power = contrast.square().sum(0)
    share_of_front = (((result - behind) * contrast).sum(0) / power.clamp_min(1e-6)).clamp(0, 1)
    off_line = (result - behind - share_of_front * contrast).abs().mean(0)
    low, high = UNMIX_CONTRAST
    trust = ((contrast.abs().mean(0) - low) / (high - low)).clamp(0, 1)
    low, high = UNMIX_OFF_LINE
    trust = trust * ((high - off_line) / (high - low)).clamp(0, 1)
    return trust * (1 - share_of_front)


def fade_weights(result: torch.Tensor, photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                 spread: float = 0.0) -> torch.Tensor:
    """(h, w) float in [0, 1]: how much of `photo` shows through each pixel of `result`
    (3, h, w), whose object was warped with `spread`; 0 outside the target.
    A result pixel unlike the background guessed behind the object
    (`background_behind`) at the place it was warped from stays opaque."""
    if not target.any() or not source.any():
        return torch.zeros(target.shape, device=photo.device)
    return _fade(result, outline_looseness(photo, source), background_behind(photo, source, target),
                 _near_outline(source, target), *_warped_from(source, target, spread))


def fade_margins(results: torch.Tensor, photo: torch.Tensor, source: torch.Tensor,
                 target: torch.Tensor, unmix: bool = True) -> torch.Tensor:
    """(B, 3, h, w) results with the object's loose margins faded into `photo`, and
    (with `unmix`) the old background's share of its rim replaced by the new place's
    (each variant with its own stretch, see warp.variant_spread)."""
    if not target.any() or not source.any():
        return results
    # What no variant changes is computed once.
    looseness, behind = outline_looseness(photo, source), background_behind(photo, source, target)
    front, near_outline, rim = object_in_front(photo, source, target), _near_outline(source, target), _rim(source, target)
    faded = []
    for variant, result in enumerate(results):
        rows, cols = _warped_from(source, target, variant_spread(variant))
        fade = _fade(result, looseness, behind, near_outline, rows, cols)
        old_background = behind[:, rows, cols]
        share = rim * background_share(result, old_background, front[:, rows, cols]) if unmix else 0.0
        faded.append(result * (1 - fade) + photo * fade + (1 - fade) * share * (photo - old_background))
    return torch.stack(faded)
