"""Starting images x'0 at level 0. Outside the edit area every start is the photo itself.

"noise"  N(0, init_std) in normalised space inside the edit area: the official
         start. Most diverse, but it needs the long schedule to become a photo.
"copy"   the object taken out, its footprint filled with the photo's own
         background (cloned from another direction for each variant, then
         patch-based, looking beyond the region, see fill.py), then the
         object warped into the target's shape (each variant stretched its
         own way where the shapes differ, warp.py), plus N(0, init_std).
         The short presets start here: the objective is the same, it starts
         from texture, not from a blur.
"input"  the input itself plus N(0, init_std).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .clone import clone_shifts
from .fill import Surroundings, fill_hole, fill_levels
from .patches import Matches
from .pyramid import Level
from .warp import variant_spread, warp_into_target


@dataclass
class BackgroundStart:
    """One copy start's background: what it painted over the object's footprint, and
    from where, for the refinement to carry on."""

    background: torch.Tensor  # (3, h, w) in [0, 1]: the region with the footprint filled
    matches: Matches | None  # region pixels -> region keys (None: the footprint was empty)


def starting_images(kind: str, photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                    free: torch.Tensor, level: Level, variants: int, std: float, fill_noise: float,
                    normalize, generator: torch.Generator, footprint: torch.Tensor | None = None,
                    surroundings: Surroundings | None = None, look_alikes: torch.Tensor | None = None) -> tuple:
    """(variants, 3, h, w) normalised starting batch on photo's device, and per variant
    its BackgroundStart (the footprint's fill at `level` and its matches, for the
    refinement to carry on), or None (not a copy start).

    photo: (3, h, w) in [0, 1] at `level`; source, target, free: bool (h, w).
    normalize maps [0, 1] pixels into the classifier's space; footprint:
    bool (h, w), what the object leaves behind (refine.RegionImages.footprint;
    default: the source alone), all of it filled before the object is put in place;
    surroundings: the photo around the region at this level, which the hole
    is filled from (default: the region's photo alone); look_alikes: bool,
    the size of the surroundings, where the photo looks like the object (the
    fill does not copy from there, see hole.background_keys).
    """
    reference = normalize(photo[None])[0]
    starts, background_starts = [], []
    first_clone = int(torch.randint(0, 4, (), generator=generator))  # the seed picks where cloning starts
    if kind == "copy":  # every variant's hole is the same; how it is first guessed differs
        # The object is taken out first and its whole footprint filled, as if it were
        # simply removed; then it is put in its new place. So the fill never sees the
        # moved object: beside a tall rocket it would match the photo's thin poles.
        hole = (source if footprint is None else footprint) & free
        frame = surroundings or Surroundings(photo)
        frame_photo, frame_hole, frame_level = frame.paste(photo), frame.paste(hole), frame.level(level)
        shifts = clone_shifts(frame_photo, frame_hole) if hole.any() else None
        levels = fill_levels(frame_level, frame_photo, frame_hole) if hole.any() else None
    for variant in range(variants):
        noise = torch.randn(reference.shape, generator=generator).to(photo.device) * std
        if kind == "noise":
            base = torch.zeros_like(reference)
        elif kind == "copy":
            # Each variant clones the hole from another direction (alternatives).
            rank = first_clone + variant
            filled, matches = fill_hole(frame_photo, frame_photo, frame_hole, frame_level, generator, fill_noise,
                                        clone_rank=rank, shifts=shifts, look_alikes=look_alikes, levels=levels)
            filled = frame.crop(filled, *hole.shape)
            matches = None if matches is None else frame.crop_matches(matches, *hole.shape)
            background_starts.append(BackgroundStart(filled, matches))
            moved = warp_into_target(photo, source, target, variant_spread(variant))
            base = normalize(torch.where(target[None], moved, filled)[None])[0]
        else:
            base = reference
        starts.append(torch.where(free[None], base + noise, reference))
    return torch.stack(starts), (background_starts if kind == "copy" else None)
