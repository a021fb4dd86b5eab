"""From MAGIC's result at the classifier's scale to the photo's own resolution.

At each finer level the coarser result is enlarged and then repainted with
the photo's own patches at that level (patch_synthesis.py): the first search
compares the enlarged result with an equally soft copy of the photo, so each
soft patch finds the sharp patch it is a blurred view of; later rounds
compare sharp with sharp. What MAGIC decided at the coarse scale (where the
object is, what shape, what fills the hole) is kept; the fine texture is
the photo's. Matches found at one level start the search at the next
(scaled displacements), so a moved object stays one coherent copy.

Levels above the preset's budget (`max_refine_pixels`) get no search: the
finest matches are carried up and vote with the sharp photo at each level,
which keeps real detail at a cost linear in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .masks import dilate
from .patch_synthesis import PatchLevel, carry_matches, paint, synthesize_level
from .patches import RADIUS, PatchSpace
from .pyramid import Level, resize, resize_mask
from .warp import variant_spread, warp_coordinates


@dataclass
class RefineSettings:
    iterations: int  # search-and-vote rounds per searched level
    patchmatch_iterations: int
    max_refine_pixels: int  # levels with more region pixels are carried, not searched
    patch_dims: int
    object_coherence: float  # how closely object patches keep the warp's correspondence (MagicConfig)
    final_reach: int = 3  # how far the patches voting in a level's last round reach (patches.vote)


@dataclass
class RegionImages:
    """The region at its own resolution: the photo and the masks, on the run's device."""

    photo: torch.Tensor  # (3, H, W) float in [0, 1]
    source: torch.Tensor  # bool (H, W)
    target: torch.Tensor  # bool (H, W)
    free: torch.Tensor  # bool (H, W): the edit area

    def at(self, level: Level) -> "RegionImages":
        return RegionImages(resize(self.photo, level).clamp(0, 1), resize_mask(self.source, level),
                            resize_mask(self.target, level), resize_mask(self.free, level, cover="any"))


def soften(image: torch.Tensor, level: Level) -> torch.Tensor:
    """`image` at `level` as soft as if it came from the level half as fine."""
    half = Level(max(1, round(level.width / 2)), max(1, round(level.height / 2)), level.scale / 2)
    return resize(resize(image, half), level).clamp(0, 1)


def patch_level(images: RegionImages, generator: torch.Generator, dims: int,
                coherence: float, search_image: torch.Tensor | None = None) -> PatchLevel:
    """The level's patch problem: object queries copy the object's patches (its edge
    with what surrounds it included), hole queries background patches only.
    Object queries prefer the first variant's stretch (`for_variant` for the others),
    leaving it only for a patch closer by `coherence` (MagicConfig.object_coherence)."""
    space = PatchSpace.fit(images.photo, torch.ones_like(images.free), dims, generator)
    object_area = dilate(images.target, RADIUS)
    object_keys = dilate(images.source, RADIUS)
    return PatchLevel(images.photo, images.free, object_area, ~object_keys, space, search_image=search_image,
                      warp=warp_coordinates(images.source, images.target), object_pixels=images.target,
                      object_keys=object_keys, coherence=coherence)


def for_variant(level: PatchLevel, images: RegionImages, variant: int) -> PatchLevel:
    """`level` with the object's pixels preferring the `variant`-th result's own stretch."""
    spread = variant_spread(variant)
    return level if spread == 0 else level.with_warp(warp_coordinates(images.source, images.target, spread))


@dataclass
class RefineReport:
    searched: list = field(default_factory=list)  # [w, h] of the levels searched
    carried: list = field(default_factory=list)  # [w, h] of the levels reached by carrying matches
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"searched_levels": self.searched, "carried_levels": self.carried,
                "seconds": round(self.seconds, 3)}


def refine(results: torch.Tensor, region: RegionImages, levels: list, settings: RefineSettings,
           generator: torch.Generator, on_level=None) -> tuple:
    """results: (B, 3, h0, w0) in [0, 1] at levels[0] -> (B, 3, H, W) at the last level.

    on_level(index, count) is called before each level (progress, cancel).
    """
    report = RefineReport()
    coarse = region.at(levels[0])
    # Level 0 itself first: MAGIC's pixels become the photo's patches that resemble
    # them. Compared softened, as at every finer level: MAGIC decides what goes
    # where; its finest grain (with an untrained classifier, mostly noise) is
    # not what the photo's grain should be chosen by.
    base = patch_level(coarse, generator, settings.patch_dims, settings.object_coherence,
                       search_image=soften(coarse.photo, levels[0]))
    matches = []
    images = []
    for variant, result in enumerate(results):
        image, found = synthesize_level(for_variant(base, coarse, variant), soften(result, levels[0]),
                                        settings.iterations, None, settings.patchmatch_iterations, generator)
        images.append(image)
        matches.append(found)
    report.searched.append([levels[0].width, levels[0].height])
    previous_level, previous_images = levels[0], coarse
    for index, level in enumerate(levels[1:], 1):
        if on_level is not None:
            on_level(index, len(levels) - 1)
        here = region if index == len(levels) - 1 else region.at(level)
        search = level.pixels <= settings.max_refine_pixels
        soft = resize(previous_images.photo, level) if search else None
        plevel = patch_level(here, generator, settings.patch_dims, settings.object_coherence, search_image=soft)
        for b, image in enumerate(images):
            guide = resize(image, level)
            start = carry_matches(matches[b], previous_level, level, plevel)
            if search:
                images[b], matches[b] = synthesize_level(for_variant(plevel, here, b), guide, settings.iterations,
                                                         start, settings.patchmatch_iterations, generator,
                                                         settings.final_reach)
            else:
                images[b] = paint(plevel, torch.where(here.free[None], guide, here.photo), start,
                                  settings.final_reach)
                matches[b] = start
        (report.searched if search else report.carried).append([level.width, level.height])
        previous_level, previous_images = level, here
    out = torch.stack(images)
    height, width = region.photo.shape[-2:]
    if out.shape[-2:] != (height, width):  # a tiny region was enlarged for the classifier
        out = resize(out, Level(width, height, 1.0)).clamp(0, 1)
        out = torch.where(region.free[None, None], out, region.photo[None])
    return out, report
