"""Completing a hole with the photo's own texture, coarse to fine, without blur.

Search-and-vote completion (Wexler et al.) averages the patches that cover a
pixel; where they disagree (gravel, a star field) the mean is a smear, and
the next search, started from that smear, picks the smoothest patches the
photo has: a star field's hole comes out as empty black. Four rules keep
the texture:

- The hole is a coherent copy and stays one: its first guess is a clone
  (clone.py), every hole patch starts at the match of the round or level
  before and leaves it only for a patch twice as close (`Keep`), so whole pieces
  of the photo are copied, as shift-map inpainting does.
- The vote does not average the texture away (patch_synthesis.sharp_paint):
  the mean of the covering patches gives each pixel its tone, seamlessly,
  and the pixel's own best patch its grain.
- A finer level starts from the coarser level's matches, scaled (never from
  an enlarged, blurred image), painted pixel by pixel from the sharp photo.
- The tone comes from a smooth guide (the healed clone, or MAGIC's coarse
  result) and the detail from the copy: `match_tone` adds the guide's low
  frequencies where the copy's differ, so pieces copied from a lighter or
  darker place leave no blotch.
"""

from __future__ import annotations

import torch

from .masks import box_blur, dilate, window
from .patch_synthesis import Keep, PatchLevel, carry_matches, paint, synthesize_level
from .patches import RADIUS, Matches, PatchSpace
from .pyramid import Level

# A hole patch leaves its current source only for one this much closer
# (patches.patchmatch: 0.5 = twice as close). Measured on synthetic star fields
# and gravel (tests/test_engine_quality.py scenes, 3 variants): hole energy
# 0.63-0.76 at 0, 0.80-0.81 at 0.2, 0.89-0.99 at 0.5 of the photo's.
HOLE_COHERENCE = 0.5
# The guide's tone is taken over this many pixels of the coarsest level
# (box radius, blurred twice): the copy keeps everything finer.
TONE_RADIUS = 1.5
TONE_SPREAD = 0.04  # a pixel whose tone difference is this far from its neighbourhood's counts e^-1 times
# Look-alikes are left out of a hole's keys only while this share of its keys remains
# (a mask network that sees the object everywhere is no guide).
LOOK_ALIKE_KEEP = 0.5


def background_keys(away_from: torch.Tensor, look_alikes: torch.Tensor | None = None) -> torch.Tensor:
    """bool (H, W) patch centres a hole may copy: none whose patch touches `away_from` (the
    object that leaves), nor, where enough background is left without them, `look_alikes`
    (where MAGIC's mask network sees the object: another dandelion in the meadow, which
    copied into the hole would look like a ghost of the one that left)."""
    keys = ~dilate(away_from, RADIUS)
    if look_alikes is not None and look_alikes.any():
        fewer = keys & ~dilate(look_alikes, RADIUS)
        if fewer.sum() >= LOOK_ALIKE_KEEP * keys.sum():
            keys = fewer
    return keys if keys.any() else ~away_from


def hole_level(photo: torch.Tensor, hole: torch.Tensor, context: torch.Tensor, keys: torch.Tensor,
               dims: int, generator: torch.Generator) -> PatchLevel:
    """The patch problem of a hole at one scale: `hole` pixels of `context` are painted
    with patches of `photo` centred on `keys` (never on the object that left)."""
    space = PatchSpace.fit(photo, keys, dims, generator)
    return PatchLevel(photo, hole, torch.zeros_like(hole), keys, space, context=context)


def shifted_matches(level: PatchLevel, shift) -> Matches:
    """Every query of `level` copying from `shift` (dy, dx) pixels away: a clone as matches."""
    rows = level.queries // level.width + int(shift[0])
    cols = level.queries % level.width + int(shift[1])
    rows = rows.clamp(RADIUS, level.height - 1 - RADIUS)
    cols = cols.clamp(RADIUS, level.width - 1 - RADIUS)
    return Matches(level.queries, rows * level.width + cols, torch.zeros(len(rows), device=rows.device))


def complete(level: PatchLevel, image: torch.Tensor, start: Matches | None, iterations: int,
             patchmatch_iterations: int, generator: torch.Generator):
    """Search-and-vote rounds on the hole of `level`, each patch holding on to its
    match (`start` first; None: searched from scratch). -> (image, matches)"""
    return synthesize_level(level, image, iterations, start, patchmatch_iterations, generator,
                            keep=Keep(HOLE_COHERENCE), sharp=True)


def carried(level: PatchLevel, matches: Matches, coarse: Level, fine: Level):
    """The coarser level's `matches` scaled to `level` (at `fine`), and the hole
    painted from them pixel by pixel with the sharp photo. -> (image, matches)"""
    start = carry_matches(matches, coarse, fine, level)
    return paint(level, level.context, start, reach=0), start


def tone_radius(coarsest: Level, level: Level) -> int:
    """Box radius at `level` that spans TONE_RADIUS pixels of the `coarsest` level."""
    return max(1, round(TONE_RADIUS * level.scale / coarsest.scale))


def _masked_mean(values: torch.Tensor, weight: torch.Tensor, radius: int) -> torch.Tensor:
    """(C, H, W) average of `values` weighted by `weight` (H, W) over a box of `radius`, twice."""
    count = box_blur(box_blur(weight, radius), radius).clamp_min(1e-6)
    return torch.stack([box_blur(box_blur(channel * weight, radius), radius) for channel in values]) / count


def match_tone(image: torch.Tensor, guide: torch.Tensor, area: torch.Tensor, radius: int) -> torch.Tensor:
    """`image` (C, H, W) with the low frequencies of `guide` inside `area`: the
    difference guide - image, averaged over `area`'s pixels only (so nothing
    outside leaks in) with a box of `radius` twice, is added there. The average
    is robust: a pixel whose difference is far from its neighbourhood's (a star
    the guide has and the copy has a pixel away) hardly counts, so structure
    that does not line up leaves no ghost, while a smooth change of tone does."""
    if not area.any():
        return image
    # The two boxes see 2 * radius + 1 px beyond the area (nothing: its weight is 0 there).
    top, bottom, left, right = window(area, 2 * radius + 1)
    inside = area[top:bottom, left:right]
    weight = inside.float()
    difference = guide[:, top:bottom, left:right] - image[:, top:bottom, left:right]
    offset = _masked_mean(difference, weight, radius)
    outlying = ((difference - offset).abs().mean(0) / TONE_SPREAD).square()
    offset = _masked_mean(difference, weight * torch.exp(-outlying), radius)
    out = image.clone()
    crop = out[:, top:bottom, left:right]
    out[:, top:bottom, left:right] = torch.where(inside[None], (crop + offset).clamp(0, 1), crop)
    return out
