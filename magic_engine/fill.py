"""The hole the object leaves, filled with the photo's own texture.

`fill_hole` paints the pixels the object leaves (and any other unknown
pixels) with the photo's own background, coarse to fine, as patch-based
inpainting does. At the coarsest scale the hole gets a first guess of real
texture, never the blur a smooth fill gives, in one of two ways:

- grown from its edge inward (peel.py): what runs into the hole (a horizon,
  a band of cloud, grass) carries on across it; the first variant's way;
- cloned as a whole from a nearby piece of clean background, shifted over
  it, its tone matched to the hole's edge (what a designer does with the
  heal tool): coherent and different for each direction, so the other
  variants clone from other directions and really differ.

Then at each scale every hole patch is replaced by its nearest background
patch and the patches vote, a few times, which mends the seams.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .masks import dilate
from .patch_synthesis import PatchLevel, synthesize_level
from .patches import RADIUS, PatchSpace
from .peel import grow_into_hole
from .pyramid import Level, resize, resize_mask

FILL_ITERATIONS = 4  # search-and-vote rounds per scale
CLONE_DIRECTIONS = 16
CLONE_RING = 3  # px around the hole compared with px around a clone source
CLONE_COVER = 0.9  # a shift that lays this much of the hole on clean background counts as covering it
HEAL_RING = 2  # px around the hole whose difference to the copy corrects its tone
CLONE_SEARCH = 3  # per direction, look up to this many times farther than the first clean source
FILL_COARSEST_SIDE = 24  # the fill starts where the short side is about this
PATCH_DIMS = 16


def fill_levels(level: Level, coarsest_side: int = FILL_COARSEST_SIDE) -> list:
    """Scales of the fill, coarsest first, ending at `level` itself (halving)."""
    levels = [level]
    while min(levels[0].width, levels[0].height) // 2 >= coarsest_side:
        scale = levels[0].scale / 2
        levels.insert(0, Level(max(1, round(level.width * scale / level.scale)),
                               max(1, round(level.height * scale / level.scale)), scale))
    return levels


def smooth_fill(image: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Push-pull fill: unknown pixels of `image` (C, h, w) get a smooth blend of
    the known ones around them (`known`: bool (h, w))."""
    if known.all() or not known.any():
        return image
    weights = known[None].float()
    values = image * weights
    pyramid = []
    while min(weights.shape[-2:]) > 1 and not (weights > 0).all():
        pyramid.append((values, weights))
        values = F.avg_pool2d(values[None], 2, ceil_mode=True)[0]
        weights = F.avg_pool2d(weights[None], 2, ceil_mode=True)[0]
    filled = values / weights.clamp_min(1e-8)
    if not (weights > 0).all():  # a 1-pixel-wide level still has holes: use the mean
        mean = values.sum((-2, -1), keepdim=True) / weights.sum((-2, -1), keepdim=True).clamp_min(1e-8)
        filled = torch.where(weights > 0, filled, mean)
    for values, weights in reversed(pyramid):
        coarse = F.interpolate(filled[None], size=values.shape[-2:], mode="bilinear", align_corners=False)[0]
        blend = weights.clamp(0, 1)
        filled = values / weights.clamp_min(1e-8) * blend + coarse * (1 - blend)
    return torch.where(known[None], image, filled)


def clone_shifts(photo: torch.Tensor, hole: torch.Tensor, usable: torch.Tensor) -> list:
    """Shifts (dy, dx) to clone the hole from, best first: at most one per each of
    CLONE_DIRECTIONS directions. A shift must lay the whole hole over `usable`
    pixels; among those, what counts is how alike the photo is around the hole
    and around the piece it is cloned from (a ring CLONE_RING px wide), and how far
    the piece's pixels are from the mean colour around the hole (no bright
    object in the middle of a dark meadow), so the clone continues its new
    surroundings. Where no shift covers the hole (a
    hole bigger than the clean background), the ones that cover most."""
    height, width = hole.shape
    ring = dilate(hole, CLONE_RING) & ~hole
    rows, cols = torch.nonzero(hole, as_tuple=True)
    ring_rows, ring_cols = torch.nonzero(ring, as_tuple=True)
    around = photo[:, ring_rows, ring_cols]
    around_mean = around.mean(1)
    longest = int(max(height, width))
    stride = max(1, longest // 200)
    found = []
    for k in range(CLONE_DIRECTIONS):
        angle = 2 * math.pi * k / CLONE_DIRECTIONS
        best, first_full = None, None
        for length in range(1, longest, stride):
            if first_full is not None and length > CLONE_SEARCH * first_full:
                break
            dy, dx = round(length * math.sin(angle)), round(length * math.cos(angle))
            r, c = rows + dy, cols + dx
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            covered = (inside & usable[r.clamp(0, height - 1), c.clamp(0, width - 1)]).float().mean().item()
            rr, rc = ring_rows + dy, ring_cols + dx
            ring_inside = (rr >= 0) & (rr < height) & (rc >= 0) & (rc < width)
            moved = photo[:, rr.clamp(0, height - 1), rc.clamp(0, width - 1)]
            mismatch = ((moved - around).abs().mean(0) * ring_inside).sum() / ring_inside.sum().clamp_min(1)
            # ...and the piece itself should be like the hole's surroundings on the whole (no bright
            # object in the middle of a dark meadow).
            piece = photo[:, r.clamp(0, height - 1), c.clamp(0, width - 1)]
            mismatch = mismatch + (piece - around_mean[:, None]).abs().mean()
            # Nearly full cover is as good as full (EM mends the rest); then likeness decides.
            score = (min(covered, CLONE_COVER), -mismatch.item())
            if covered >= CLONE_COVER and first_full is None:
                first_full = length
            if best is None or score > best[0]:
                best = (score, (dy, dx))
        found.append(best)
    found.sort(key=lambda item: item[0], reverse=True)
    return [shift for _, shift in found]


def _cloned(photo: torch.Tensor, context: torch.Tensor, hole: torch.Tensor, usable: torch.Tensor,
            shift) -> torch.Tensor:
    """`context` with the hole copied from the photo `shift` away; pixels the shifted
    copy cannot supply are filled smoothly from their surroundings."""
    height, width = hole.shape
    dy, dx = shift
    rows = (torch.arange(height, device=hole.device) + dy).clamp(0, height - 1)
    cols = (torch.arange(width, device=hole.device) + dx).clamp(0, width - 1)
    copied = photo[:, rows][:, :, cols]
    supplied = usable[rows][:, cols]
    # Healed, not just cloned: the copy's tone is corrected by the difference
    # between the hole's surroundings and the copy's, spread smoothly over the
    # hole, so a piece from a lighter part of a gradient sky leaves no column.
    ring = dilate(hole, HEAL_RING) & ~hole
    offset = smooth_fill(torch.where(ring[None], context - copied, torch.zeros_like(copied)), ring)
    out = torch.where(hole[None] & supplied[None], (copied + offset).clamp(0, 1), context)
    return smooth_fill(out, ~hole | supplied)


def fill_hole(photo: torch.Tensor, context: torch.Tensor, hole: torch.Tensor, level: Level,
              generator: torch.Generator, noise: float = 0.05, clone_rank: int | None = 0,
              shifts: list | None = None) -> torch.Tensor:
    """(3, H, W) `context` with its `hole` pixels painted from the photo's background.

    photo: (3, H, W) the photo at `level`, [0, 1], whose patches are copied;
    context: the image to fill (the photo with the object already moved);
    hole: bool (H, W). Patches that touch the hole in the photo are never
    copied: they hold the object that is being removed. clone_rank picks the
    clone direction (0: the best shift, then 1, 2, ...), None grows the hole
    from its edge instead; `noise` is added to a cloned first guess. shifts:
    `clone_shifts` of this photo and hole, when the caller fills the same
    hole several times.
    """
    if not hole.any():
        return context.clone()
    if clone_rank is not None and shifts is None:
        shifts = clone_shifts(photo, hole, ~dilate(hole, RADIUS))
    scales = fill_levels(level)
    current = None
    previous = None
    for step in scales:
        photo_here = resize(photo, step).clamp(0, 1)
        context_here = resize(context, step).clamp(0, 1)
        hole_here = resize_mask(hole, step, cover="any")
        keys = ~dilate(hole_here, RADIUS)
        if not keys.any():
            keys = ~hole_here
        space = PatchSpace.fit(photo_here, keys, PATCH_DIMS, generator)
        search_image = None
        if current is None and clone_rank is None:
            current = grow_into_hole(photo_here, context_here, hole_here, keys, generator)
        elif current is None:
            shift = shifts[clone_rank % len(shifts)]
            ratio = step.scale / level.scale
            current = _cloned(photo_here, context_here, hole_here, keys,
                              (round(shift[0] * ratio), round(shift[1] * ratio)))
            current = current + noise * torch.randn(current.shape, generator=generator).to(current.device) * hole_here
        else:
            current = resize(current, step)
            search_image = resize(resize(photo_here, previous), step)
        patch_level = PatchLevel(photo_here, hole_here, torch.zeros_like(hole_here), keys, space,
                                 search_image=search_image, context=context_here)
        current, _ = synthesize_level(patch_level, current, FILL_ITERATIONS, generator=generator)
        previous = step
    return torch.where(hole[None], current, context)
