"""A soft selection carried as the object's matte.

A GIMP selection holds an opacity per pixel: Foreground Select gives a
tree's twigs or a dandelion's fluff partial values, Feather gives a soft
edge. Cut and pasted in GIMP, such a selection takes each pixel in that
proportion. MAGIC does the same with the object it moves, without the rim
of old background a plain paste leaves: a partly selected pixel C is read
as a mix a F + (1 - a) B of the object's colour F and the background B
behind it (a: the selection), and the mix is made again over the new
place's background B'. F and B are guessed smoothly, F from the pixels the
selection holds whole, B from those it leaves out (a membrane over the soft
edge, as the heal tool spans a hole); what neither explains (a twig's
grain, the old background's noise) goes along in proportion to a. So a
pixel the selection holds whole arrives unchanged, one it leaves out shows
the new place exactly, and a soft edge does not drag the old background
along. Where the mix does not explain a pixel (Feather across an object's
hard edge: the selection is an opacity there, not how much of the pixel
the object covers), it is taken as a plain paste takes it.

A loose selection's margins fade first (margins.py). A selection soft only
by antialiasing, or on a layer with transparency (whose alpha is the
object's edge), is no matte: it is thresholded (inputs.load_source). A hard
selection drawn loosely all round gets one: the background it holds let go
(margins.loose_matte).
"""

from __future__ import annotations

import torch

from .masks import dilate
from .smooth import membrane_fill
from .warp import variant_spread, warp_coordinates

OPAQUE = 254 / 255  # a selection this strong holds the object whole (F is known there)
# A pixel is unmixed only as far as the mix explains it (mean RGB off by less than this).
# A feathered selection across a hard edge is opacity, not coverage: its pixels are the
# object's or the background's, not a mix, and take the selection as opacity only, as in GIMP.
MIX_TOLERANCE = 0.1


def object_and_background(photo: torch.Tensor, matte: torch.Tensor) -> tuple:
    """(3, h, w) each: the object's colour F and the background's B under the
    soft edge of `matte` (h, w, [0, 1]), spanned from where the selection holds
    the object whole (F) and where it leaves the photo out (B); elsewhere the photo."""
    soft = (matte > 0) & (matte < OPAQUE)
    domain = dilate(soft, 1)
    opaque, clear = matte >= OPAQUE, matte <= 0
    # Nothing held whole (a selection at 40 % everywhere): no colour to unmix towards,
    # so the pixel is its own object colour, as a plain paste takes it.
    colour = membrane_fill(photo, opaque, domain) if opaque.any() else photo
    behind = membrane_fill(photo, clear, domain) if clear.any() else photo
    return colour, behind


def matte_composite(results: torch.Tensor, backgrounds: torch.Tensor, photo: torch.Tensor, matte: torch.Tensor,
                    source: torch.Tensor, target: torch.Tensor, reach: torch.Tensor) -> torch.Tensor:
    """(B, 3, h, w) each result's object composited over its background with the
    selection's `matte` (h, w, [0, 1]) carried along the way the object moved
    (each variant with its own stretch, warp.variant_spread).

    results: the refined images (the object in the target, its background
    around); backgrounds: each without its object (the old footprint filled);
    photo: (3, h, w); source, target: bool (h, w); reach: bool (h, w), the
    object's footprint: a soft edge beyond it stays at its old place, so it
    goes nowhere else. Inside the target the result's own pixel is the
    object's (with what MAGIC changed in it); just outside, where a soft edge
    reaches past the target, the photo's pixel it came from."""
    height, width = target.shape
    colour, behind = object_and_background(photo, matte)
    carried = torch.where(reach, matte, torch.zeros_like(matte))
    out = []
    for variant, (result, background) in enumerate(zip(results, backgrounds)):
        rows, cols = warp_coordinates(source, target, variant_spread(variant), beyond=True)
        rows = rows.round().long()[:, None].expand(height, width)
        cols = cols.round().long()
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        rows, cols = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
        # Outside the target only the soft edge comes along: where a reshape's warp lands
        # on the object itself there (between two parts of a target), nothing does.
        edge = inside & (target | ~source[rows, cols])
        opacity = torch.where(edge, carried[rows, cols], torch.zeros_like(matte))
        pixel = torch.where(target[None], result, photo[:, rows, cols])
        old_background = behind[:, rows, cols]
        # a F + (1 - a) B' plus the share a of what the mix a F + (1 - a) B leaves unexplained
        # in the pixel p, written so that a = 1 gives p and a = 0 gives B' exactly.
        difference = colour[:, rows, cols] - old_background
        unexplained = (pixel - old_background - opacity * difference).abs().mean(0)
        trust = (1 - unexplained / MIX_TOLERANCE).clamp(0, 1)
        unmixed = trust * opacity * (1 - opacity) * difference
        out.append((opacity * pixel + (1 - opacity) * background + unmixed).clamp(0, 1))
    return torch.stack(out)
