"""The hole the object leaves, filled with the photo's own texture.

`fill_hole` paints the pixels the object leaves (and any other unknown
pixels) with the photo's own background, coarse to fine, as patch-based
inpainting does. The first guess is real texture, never the blur a smooth
fill gives: the hole cloned as a whole from a nearby piece of clean
background and healed to its tone (clone.py; what a designer does with the
heal tool), coherent, and different for each direction, so variants that
clone from different directions really differ. (Growing the hole pixel by
pixel from its edge, Efros and Leung's way, was tried and dropped: beside
the rocket's launch lights it grew a second light into the sky.)

Then, coarse to fine, the clone is completed as a coherent copy (hole.py):
each hole patch holds on to where the clone took it from unless a clearly
closer patch lies near, which mends the seams without averaging the
texture away (a star field's stars, gravel's edges), and the result keeps
the healed clone's tone. The matches are returned with the image, so the
refinement carries the same copy to the photo's resolution.

The fill may look beyond the region MAGIC edits (`Surroundings`): a narrow
region (a tall rocket's) often holds too little clean background to
continue what crosses the hole (a band of cloud, a horizon); the photo
beside it does. Only the hole's pixels are taken back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .clone import clone_shifts, healed_clone
from .hole import background_keys, carried, complete, hole_level, match_tone, shifted_matches, tone_radius
from .masks import dilate
from .patches import RADIUS, Matches
from .pyramid import Level, resize, resize_mask
from .smooth import smooth_fill

FILL_REACH = 1.0  # the fill looks as far as the region's own width and height beyond it
FILL_ITERATIONS = 4  # search-and-vote rounds per scale
FILL_PATCHMATCH_ITERATIONS = 4
FILL_COARSEST_SIDE = 24  # the fill starts where the short side of its frame (the surroundings) is about this...
# ...or where the hole's surroundings keep less than this share of their contrast, if that
# comes first. Coarse scales carry structure across a hole (a ridge, a horizon), and
# structure keeps its contrast there; a texture whose contrast averages away (a star
# field, gravel) leaves a blur at that scale for the fill to copy, and the finer scales
# copy the matching blank places on.
KEPT_CONTRAST = 0.75
SURROUNDS = 3  # px of the hole's surroundings whose contrast is measured, at each scale
# Patches are compared whole (7x7 RGB): a projection on their main directions keeps the
# smooth part and drops what a star or a pebble's edge is, and the fill then copies empty sky.
PATCH_DIMS = 147


@dataclass
class Surroundings:
    """The photo around the region at a level's scale, the region's pixels at (top, left)."""

    photo: torch.Tensor  # (3, H, W) [0, 1]
    top: int = 0
    left: int = 0

    def level(self, level: Level) -> Level:
        return Level(self.photo.shape[-1], self.photo.shape[-2], level.scale)

    def paste(self, image: torch.Tensor) -> torch.Tensor:
        """The surroundings with the region's (C, h, w) `image` (or bool mask, on False) in place."""
        height, width = image.shape[-2:]
        base = torch.zeros(self.photo.shape[-2:], dtype=torch.bool, device=image.device) \
            if image.dtype == torch.bool else self.photo.clone()
        base[..., self.top:self.top + height, self.left:self.left + width] = image
        return base

    def crop(self, image: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The region's (..., height, width) window of a surroundings-sized `image`."""
        return image[..., self.top:self.top + height, self.left:self.left + width]

    def crop_matches(self, matches: Matches, height: int, width: int) -> Matches:
        """`matches` over the surroundings as matches over the region (`height` x `width`):
        the queries inside it whose key is a whole patch inside it too."""
        frame_width = self.photo.shape[-1]
        rows, cols = matches.queries // frame_width - self.top, matches.queries % frame_width - self.left
        key_rows, key_cols = matches.keys // frame_width - self.top, matches.keys % frame_width - self.left
        keep = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        keep &= (key_rows >= RADIUS) & (key_rows < height - RADIUS) & (key_cols >= RADIUS) & (key_cols < width - RADIUS)
        return Matches((rows * width + cols)[keep], (key_rows * width + key_cols)[keep], matches.distances[keep])


def sized_levels(level: Level, coarsest_side: int = FILL_COARSEST_SIDE) -> list:
    """Scales from `level` down to where the frame's short side is about `coarsest_side`
    (halving), coarsest first."""
    levels = [level]
    while min(levels[0].width, levels[0].height) // 2 >= coarsest_side:
        scale = levels[0].scale / 2
        levels.insert(0, Level(max(1, round(level.width * scale / level.scale)),
                               max(1, round(level.height * scale / level.scale)), scale))
    return levels


def fill_levels(level: Level, photo: torch.Tensor, hole: torch.Tensor,
                coarsest_side: int = FILL_COARSEST_SIDE) -> list:
    """The fill's scales, coarsest first: the `sized_levels`, halving from `level` only
    while the `hole`'s surroundings in `photo` (both at `level`) keep KEPT_CONTRAST of
    their contrast."""
    # Shrunk, the object's own pixels would bleed into its surroundings.
    background = smooth_fill(photo, ~hole)
    contrast = surroundings_contrast(background, hole)
    sized = sized_levels(level, coarsest_side)
    levels = sized[-1:]
    for coarser in reversed(sized[:-1]):
        if surroundings_contrast(resize(background, coarser), resize_mask(hole, coarser, cover="any")) \
                < KEPT_CONTRAST * contrast:
            break
        levels.insert(0, coarser)
    return levels


def surroundings_contrast(photo: torch.Tensor, hole: torch.Tensor) -> float:
    """Standard deviation (mean over RGB) of `photo` on the SURROUNDS px around `hole`."""
    ring = dilate(hole, SURROUNDS) & ~hole
    return float(photo[:, ring].std(1).mean()) if ring.sum() > 1 else 0.0


def fill_hole(photo: torch.Tensor, context: torch.Tensor, hole: torch.Tensor, level: Level,
              generator: torch.Generator, noise: float = 0.05, clone_rank: int = 0,
              shifts: list | None = None, look_alikes: torch.Tensor | None = None,
              levels: list | None = None) -> tuple:
    """`context` with its `hole` painted from the photo's background, and where each
    hole patch was copied from. -> ((3, H, W) image, Matches at `level`, or None
    when there is no hole).

    photo: (3, H, W) the photo at `level`, [0, 1], whose patches are copied;
    context: the image to fill (the photo: the object is put in its new
    place after the fill, so the fill never matches it); hole: bool (H, W).
    Patches that touch the hole in the photo are never copied: they hold the
    object that is being removed. clone_rank picks the clone direction (0:
    the best shift, then 1, 2, ...); `noise` is added to the cloned first
    guess. shifts, levels: `clone_shifts` and `fill_levels` of this photo and
    hole, when the caller fills the same hole several times. look_alikes: bool (H, W) where the
    photo looks like the object (hole.background_keys), not copied. To fill
    from beyond the image given, pass the surroundings' photo, context and
    hole (`Surroundings`).
    """
    if not hole.any():
        return context.clone(), None
    # Cloned and healed at the level's own scale, where the tone is exact.
    shifts = shifts or clone_shifts(photo, hole)
    shift = shifts[clone_rank % len(shifts)]
    cloned = healed_clone(photo, context, hole, shift)
    current = matches = previous = None
    steps = levels or fill_levels(level, photo, hole)
    for step in steps:
        photo_here = resize(photo, step).clamp(0, 1)
        context_here = resize(context, step).clamp(0, 1)
        hole_here = resize_mask(hole, step, cover="any")
        alike_here = None if look_alikes is None else resize_mask(look_alikes, step, cover="any")
        patch_level = hole_level(photo_here, hole_here, context_here, background_keys(hole_here, alike_here),
                                 PATCH_DIMS, generator)
        if previous is None:  # the clone, as matches and as a first guess
            ratio = step.scale / level.scale
            start = shifted_matches(patch_level, (round(shift[0] * ratio), round(shift[1] * ratio)))
            current = torch.where(hole_here[None], resize(cloned, step).clamp(0, 1), context_here)
            current = current + noise * torch.randn(current.shape, generator=generator).to(current.device) * hole_here
        else:
            current, start = carried(patch_level, matches, previous, step)
        current, matches = complete(patch_level, current, start, FILL_ITERATIONS, FILL_PATCHMATCH_ITERATIONS,
                                    generator)
        previous = step
    # The copy's texture, the healed clone's tone at the scale of the coarsest step the
    # frame allows, wherever the fill started: finer, it would bring back as glows what
    # the rounds removed from the clone (a galaxy the copy left out), and make every
    # variant look like its clone.
    current = match_tone(current, cloned, hole, tone_radius(sized_levels(level)[0], level))
    return torch.where(hole[None], current, context), matches
