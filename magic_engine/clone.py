"""Cloning a hole from a nearby piece of clean background, as a designer does with the heal tool.

The copy is healed, not pasted: the difference between the hole's
surroundings and the copy's, on a ring around the hole, is spread over the
hole as a membrane (each pixel the mean of its neighbours, as the heal tool
solves it) and added, so a piece from a lighter part of a gradient sky
leaves no column, and each part of the hole takes the correction of the
ring nearest to it: a tall narrow hole is not lit along its whole length
by the launch lights at its foot. The ring starts a little away from the hole, where the
removed object's glow no longer lights the photo, and ring pixels whose
difference is far from the ring's typical one (structure: a rock's edge
runs on one side and not on the other) do not take part, so the correction
never smears that structure into the hole; the patch rounds that follow
mend such seams.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .masks import dilate, local_extremes, masked_mean
from .patches import RADIUS
from .smooth import membrane_fill, smooth_fill

CLONE_DIRECTIONS = 16
CLONE_RING = 3  # px around the hole compared with px around a clone source
CLONE_COVER = 0.9  # a shift that lays this much of the hole on clean background counts as covering it
CLONE_SEARCH = 3  # per direction, look up to this many times farther than the first clean source
# A piece's pixel beyond every ring pixel near it (brighter or darker, in any channel) by
# CLONE_STRAY holds something the hole's surroundings do not. A piece with a quarter of a
# patch of them or more within one patch (a launch light, another hiker; not a star's few
# pixels, nor sparse stars or glints) comes after every piece without.
CLONE_STRAY = 0.1
CLONE_STRAY_PIXELS = (2 * RADIUS + 1) ** 2 // 4
HEAL_RING = 2  # px of ring around the hole whose difference to the copy corrects its tone...
HEAL_GAP = 2  # ...starting this far out: right at the hole the removed object's glow still lights the photo
HEAL_MAX = 0.12  # a ring pixel whose difference is this far from the ring's median (mean over RGB) is structure
HEAL_ALONG = 4  # px: box radius over which the ring's differences are averaged first (no grain healed in)


def clone_shifts(photo: torch.Tensor, hole: torch.Tensor) -> list:
    """Shifts (dy, dx) to clone the `hole` of `photo` from, best first: at most one
    per each of CLONE_DIRECTIONS directions. A shift must lay the whole hole over
    clean background (not within a patch of the hole); among those, what counts
    is how alike the photo is around the hole and around the piece it is cloned
    from (a ring CLONE_RING px wide), whether the piece's mean colour is the
    ring's, and whether its pixels stray as far from that colour as the ring's
    own do: no bright object in the middle of a dark meadow, no otter's fur in
    its water, and no empty piece of a star field, whose stars are its texture.
    Before likeness, a piece must hold nothing that stands out of everything
    around its part of the hole (CLONE_STRAY): where the launch mount beside a
    rocket continues its surroundings best, its launch light is no reason to
    clone from there. So the clone continues its new surroundings. Where no
    shift covers the hole (a hole bigger than the clean background), the ones
    that cover most."""
    usable = ~dilate(hole, RADIUS)
    height, width = hole.shape
    ring = dilate(hole, CLONE_RING) & ~hole
    rows, cols = torch.nonzero(hole, as_tuple=True)
    ring_rows, ring_cols = torch.nonzero(ring, as_tuple=True)
    around = photo[:, ring_rows, ring_cols]
    around_mean = around.mean(1)
    around_spread = (around - around_mean[:, None]).abs().mean()
    high, low = _ring_range(photo, ring, hole, rows, cols)
    in_box = rows - rows.min(), cols - cols.min()  # the hole's pixels in its bounding box
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
            piece = photo[:, r.clamp(0, height - 1), c.clamp(0, width - 1)]
            spread = (piece - around_mean[:, None]).abs().mean()
            shift_of_tone = (piece.mean(1) - around_mean).abs().mean()
            mismatch = mismatch + (spread - around_spread).abs() + shift_of_tone
            strays = ((piece > high + CLONE_STRAY) | (piece < low - CLONE_STRAY)).any(0)
            # Nearly full cover is as good as full (the patch rounds mend the rest); then
            # a piece that brings nothing foreign, then likeness decides.
            score = (min(covered, CLONE_COVER), _most_in_a_patch(strays, in_box) < CLONE_STRAY_PIXELS,
                     -mismatch.item())
            if covered >= CLONE_COVER and first_full is None:
                first_full = length
            if best is None or score > best[0]:
                best = (score, (dy, dx))
        found.append(best)
    found.sort(key=lambda item: item[0], reverse=True)
    return [shift for _, shift in found]


def _most_in_a_patch(flags: torch.Tensor, in_box: tuple) -> int:
    """The most of the hole's `flags` (bool per hole pixel, at `in_box`: its rows and
    columns in the hole's bounding box) that one patch-sized window holds."""
    total = int(flags.sum())
    if total < CLONE_STRAY_PIXELS:  # cannot reach the limit: no need to look where they are
        return total
    rows, cols = in_box
    grid = torch.zeros(int(rows.max()) + 1, int(cols.max()) + 1, device=flags.device)
    grid[rows, cols] = flags.float()
    side = 2 * RADIUS + 1
    return round(F.avg_pool2d(grid[None, None], side, stride=1, padding=RADIUS).max().item() * side * side)


def _ring_range(photo: torch.Tensor, ring: torch.Tensor, hole: torch.Tensor, rows, cols) -> tuple:
    """(C, N) highest and lowest values of the `ring`'s pixels near each hole pixel
    (`rows`, `cols`): within twice the hole's inner radius (how far its middle lies
    from the ring) and the ring's width, so each part of the hole is judged by its
    own surroundings."""
    if not ring.any():  # the hole is the whole image: nothing around it to stand out of
        unbounded = torch.full((photo.shape[0], len(rows)), torch.inf, device=photo.device)
        return unbounded, -unbounded
    reach, covered = 0, ring
    while (hole & ~covered).any():
        reach, covered = reach + 1, dilate(covered, 1)
    high, low = local_extremes(photo, ring, 2 * reach + CLONE_RING)
    return high[:, rows, cols], low[:, rows, cols]


def healed_clone(photo: torch.Tensor, context: torch.Tensor, hole: torch.Tensor, shift) -> torch.Tensor:
    """(3, H, W) `context` with its `hole` copied from `photo` `shift` away and healed
    to the tone around it; pixels the shifted copy cannot supply (beyond the
    photo, or near the hole itself) are filled smoothly from around."""
    height, width = hole.shape
    dy, dx = shift
    rows = torch.arange(height, device=hole.device) + dy
    cols = torch.arange(width, device=hole.device) + dx
    inside = ((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[None]
    rows, cols = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
    copied = photo[:, rows][:, :, cols]
    supplied = inside & ~dilate(hole, RADIUS)[rows][:, cols]
    ring = dilate(hole, HEAL_GAP + HEAL_RING) & ~dilate(hole, HEAL_GAP)
    difference = context - copied
    offset = torch.zeros_like(copied)
    if ring.any():  # else the hole's surroundings are all within the gap: nothing to take a tone from
        typical = difference[:, ring].median(1).values[:, None, None]
        tone = ring & ((difference - typical).abs().mean(0) <= HEAL_MAX)
        averaged = masked_mean(difference, tone, HEAL_ALONG)
        offset = membrane_fill(torch.where(tone[None], averaged, offset), tone, dilate(hole, HEAL_GAP + HEAL_RING))
    out = torch.where(hole[None] & supplied[None], (copied + offset).clamp(0, 1), context)
    return smooth_fill(out, ~hole | supplied)
