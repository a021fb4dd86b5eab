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

A selection drawn loosely takes more than a margin along: a ten-point polygon
round a tree on a ridge holds a wedge of sky that would land on the tea rows as
a sticker. `loose_matte` reads such a selection as Foreground Select would: a
selected pixel whose neighbourhood looks like the background just outside the
selection, and clearly more like it than like the object's surest pixels, is
background; where that joins a loose stretch of the outline it is let go,
softly where a twig's edge mixes with the sky. A background-coloured part the
object encloses stays, and so does a narrow arm of the selection (drawn on
purpose round a spike or a stem). What would go must also be at least as common
just outside the selection as inside it, or nothing goes: a black post before a
dark stone wall has the colours of the wall's joints, but only the selection is
full of them. The result is the object's matte (matte.py);
what is let go also stays at the old place.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .smooth import smooth_fill
from .masks import dilate, erode, masked_mean, window
from .region import blend_weights
from .warp import variant_spread, warp_coordinates

SIDE = 3  # px on each side of the source's outline that are compared
LOOSE_TONE = 0.05  # mean RGB difference across the outline up to which it runs through background...
TIGHT_TONE = 0.08  # ...and from which it follows the object's edge (a ramp between)
UNLIKE_BACKGROUND = 0.1  # a result pixel this far (mean RGB) from the background behind it stays opaque
FADE_SHARE = 0.05  # the band's width: this share of the square root of the target's area...
THIN_SHARE = 1 / 3  # ...and at most this share of the target's thickness
# Background let go inside a loose selection (loose_matte). Only where at least
# LOOSE_ALL_ROUND of the outline runs through background; then each selected pixel's
# PATCH-square neighbourhood of colours is compared with SAMPLES of the background's
# (from beyond the fade band) and SAMPLES of the object's surest pixels: those farther
# from the background than SURELY_OBJECT times the background's own 90th-percentile
# distance (at least MIN_OBJECT_SAMPLES of them, or nothing goes). A pixel is background
# as far as it lies within the background's median distance (fully) to twice that, and
# as far as it lies nearer the background than the object (fully at CLOSER of the distance).
LOOSE_ALL_ROUND = 0.75
PATCH = 5
SAMPLES = 2000
SURELY_OBJECT = 2.0
MIN_OBJECT_SAMPLES = 16
CLOSER = 0.5
LET_GO = 0.5  # background likeness from which the background held joins the loose outline's
MATTE_PIXELS = 40_000  # a selection whose box is larger is judged at a scale where its box has this many pixels
# A narrow arm of a selection (a spike, a stem selected on purpose) holds no background by
# accident: only where it is broader than twice this share of the square root of its area.
NARROW_SHARE = 0.1
# Two 8-bit steps in every value of a neighbourhood: the least the background's own
# distance is taken to be (a flat backdrop, a clean sky, matches its bank exactly).
FLAT = 2 / 255 * math.sqrt(3 * PATCH ** 2) / PATCH
MIN_LET_GO = 0.02  # share of the selection below which a loose selection is left to the fade
# What would be let go must be, on the median, at least as common just outside the
# selection as inside it (the shares of neighbourhoods alike out there and in there;
# measured: 1.8-7.4 where the bundled cases let go, 0.7 for a black post before a dark wall).
OUTSIDE_TO_INSIDE = 1.0


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
    top, bottom, left, right = window(target, math.ceil(band / THIN_SHARE / 2) + 1)  # all the test looks at
    target = target[top:bottom, left:right]
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


def _neighbourhoods(photo: torch.Tensor) -> torch.Tensor:
    """(h * w, 3 PATCH^2): each pixel's PATCH-square of colours."""
    pad = PATCH // 2
    return F.unfold(F.pad(photo[None], (pad,) * 4, mode="replicate"), PATCH)[0].T / PATCH


def _sample(where: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices (into the flattened mask) of at most SAMPLES of `where`'s pixels, drawn reproducibly."""
    indices = torch.nonzero(where.flatten())[:, 0]
    order = torch.randperm(len(indices), generator=generator)[:SAMPLES]
    return indices[order.to(indices.device)]


def _nearest(queries: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.cdist(chunk, bank).min(1).values for chunk in queries.split(4096)])


def _background_likeness(photo: torch.Tensor, source: torch.Tensor, band: int) -> tuple:
    """-> ((h, w) float in [0, 1] on `source`: how surely each selected pixel is background,
    near the background outside the selection and clearly nearer it than the object;
    each pixel's neighbourhood features; the background's bank of them; the distance
    within which a neighbourhood counts as like another, twice the background's typical one)."""
    height, width = source.shape
    features = _neighbourhoods(photo)
    generator = torch.Generator().manual_seed(0)
    # The background from beyond the fade band, as `background_behind` takes it: a blurred
    # object's glow spills past a snug selection, and inside the selection it is the object's.
    background = dilate(source, 3 * band) & ~dilate(source, band)
    bank = features[_sample(background, generator)]
    # The background's own spread: the ring beyond against the bank drawn from it (each
    # neighbourhood would find itself in the bank; the next ring out does not).
    outer = dilate(source, 4 * band) & ~dilate(source, 3 * band)
    if not outer.any():
        return torch.zeros_like(source, dtype=photo.dtype), features, bank, 0.0
    own = _nearest(features[outer.flatten()], bank)
    typical = torch.quantile(own, 0.5).clamp_min(FLAT)
    far = SURELY_OBJECT * torch.quantile(own, 0.9).clamp_min(FLAT)
    selected = source.flatten()
    to_background = torch.zeros(height * width, device=photo.device, dtype=photo.dtype)
    to_background[selected] = _nearest(features[selected], bank)
    surely_object = selected & (to_background > far)
    if int(surely_object.sum()) < MIN_OBJECT_SAMPLES:
        return torch.zeros_like(source, dtype=photo.dtype), features, bank, 2 * float(typical)
    to_object = torch.zeros_like(to_background)
    to_object[selected] = _nearest(features[selected], features[_sample(surely_object.view(height, width), generator)])
    near_background = ((2 * typical - to_background) / typical).clamp(0, 1)
    nearer_background = ((1 - to_background / to_object.clamp_min(1e-6)) / (1 - CLOSER)).clamp(0, 1)
    return (near_background * nearer_background * selected).view(height, width), features, bank, 2 * float(typical)


def _outside_to_inside(features: torch.Tensor, bank: torch.Tensor, alike: float, source: torch.Tensor,
                       held: torch.Tensor) -> float:
    """How common what is `held` is just outside the selection against inside it: the
    median over (a sample of) the held pixels of the share of the background's `bank`
    within `alike` of the pixel's neighbourhood, divided by the share of as many of the
    selection's own neighbourhoods (those overlapping the pixel's own left out)."""
    generator = torch.Generator().manual_seed(1)
    inside = _sample(source, generator)
    queries = _sample(held, generator)
    outside_share = (torch.cdist(features[queries], bank) <= alike).float().mean(1)
    # A neighbourhood overlapping the pixel's own shares most of its colours: not counted,
    # as the bank, from beyond the fade band, holds none that close.
    width = source.shape[1]
    overlapping = (((inside // width)[None] - (queries // width)[:, None]).abs() < PATCH) & \
                  (((inside % width)[None] - (queries % width)[:, None]).abs() < PATCH)
    near_inside = (torch.cdist(features[queries], features[inside]) <= alike) & ~overlapping
    inside_share = near_inside.float().sum(1) / (~overlapping).float().sum(1).clamp_min(1)
    return float((outside_share / inside_share.clamp_min(1e-6)).median())


def _grow_within(seeds: torch.Tensor, passable: torch.Tensor) -> torch.Tensor:
    """bool (h, w): the `passable` pixels joined to `seeds` through passable pixels."""
    grown = seeds & passable
    while True:
        for _ in range(16):  # a check costs a device sync: look every few steps
            grown = dilate(grown, 1) & passable
        if torch.equal(dilate(grown, 1) & passable, grown):
            return grown


def _outline_and_loose_stretches(photo: torch.Tensor, source: torch.Tensor) -> tuple:
    """bool (h, w) each: the source's outline pixels, and those of them where it runs
    through background (`outline_looseness` over a half)."""
    outline = source & ~erode(source, 1)
    return outline, (outline_looseness(photo, source) > 0.5) & outline


def _let_go(photo: torch.Tensor, source: torch.Tensor, loose_outline: torch.Tensor, band: int) -> torch.Tensor:
    """(h, w) float in [0, 1]: how much of each pixel of `source` is background let go,
    grown from `loose_outline` (bool: the outline's pixels where it runs through background)."""
    likeness, features, bank, alike = _background_likeness(photo, source, band)
    narrow = math.ceil(NARROW_SHARE * math.sqrt(float(source.sum())))
    broad = dilate(erode(source, narrow), narrow) & source
    held = _grow_within(loose_outline, broad & (likeness >= LET_GO))
    # Background a selection holds by accident continues the background around it; what
    # is mostly of a kind found inside and rare just outside is the object, however like
    # some of the background its colours are (a black post before a dark stone wall).
    if held.any() and _outside_to_inside(features, bank, alike, source, held) < OUTSIDE_TO_INSIDE:
        return torch.zeros_like(likeness)
    # What is held goes whole; the pixels at its edge that are partly like the background
    # (a twig's edge against the sky) go in part, continuing from there.
    rim = dilate(held, 1) & broad & ~held
    return torch.where(held, 1.0, torch.where(rim, (likeness / LET_GO).clamp(0, 1), 0.0))


def _enlarged(values: torch.Tensor, small: torch.Tensor, large: torch.Tensor) -> torch.Tensor:
    """`values` on the `small` mask brought to the `large` mask's size smoothly, each
    pixel from the small mask's pixels only (no blend with the 0 outside it), 0 off `large`."""
    def up(image):
        return F.interpolate(image[None, None], size=large.shape, mode="bilinear", align_corners=False)[0, 0]
    weight = up(small.float())
    spread = up(torch.where(small, values, 0.0)) / weight.clamp_min(1e-6)
    return torch.where(large & (weight > 0), spread, torch.zeros_like(spread))


def loose_matte(photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
    """(h, w) float in [0, 1]: the object's opacity within a hard `source` selection, 0
    outside it; the background the selection holds, joined to a loose stretch of its
    outline, let go (see the module's docstring). None where that is under MIN_LET_GO of
    the selection: the fade at the margins does the rest."""
    if not source.any() or source.all() or not target.any():
        return None
    band = band_width(target)
    top, bottom, left, right = window(source, 4 * band + PATCH)
    crop_photo, crop_source = photo[:, top:bottom, left:right], source[top:bottom, left:right]
    # A selection that follows the object's edge over much of its outline was drawn tightly:
    # its few alike stretches are weak edges (a red cup's base over a red saucer), not a
    # margin of background, and the colours cannot tell what lies behind them.
    outline, loose_outline = _outline_and_loose_stretches(crop_photo, crop_source)
    if float(loose_outline.sum()) < LOOSE_ALL_ROUND * float(outline.sum()):
        return None
    scale = min(1.0, math.sqrt(MATTE_PIXELS / crop_source.numel()))
    if scale < 1:  # a large selection: judged on a smaller copy, what goes brought back smoothly
        size = (max(1, round(crop_source.shape[0] * scale)), max(1, round(crop_source.shape[1] * scale)))
        small_source = F.interpolate(crop_source[None, None].float(), size=size, mode="area")[0, 0] >= 0.5
        small_photo = F.interpolate(crop_photo[None], size=size, mode="area")[0]
        _, small_loose = _outline_and_loose_stretches(small_photo, small_source)
        let_go = _let_go(small_photo, small_source, small_loose, max(1, round(band * scale)))
        let_go = _enlarged(let_go, small_source, crop_source)
    else:
        let_go = _let_go(crop_photo, crop_source, loose_outline, band)
    if float(let_go.sum()) < MIN_LET_GO * float(crop_source.sum()):
        return None
    matte = source.float()
    matte[top:bottom, left:right] = torch.where(crop_source, 1 - let_go, 0.0)
    return matte
