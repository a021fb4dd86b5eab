"""From MAGIC's result at the classifier's scale to the photo's own resolution.

MAGIC decides at the coarse scale what goes where: where the object is and
in what shape, and what fills the hole it leaves. The refinement carries
that to the photo's resolution as two layers, level by level:

- The object. A moved object (position mode, `copy_object`) is the photo's
  own pixels at the new place (an exact copy at the photo's resolution);
  MAGIC's change to it, if any, arrives as a change of tone, never as a
  re-synthesis, so thin parts (a beak, a leg, a stem) arrive whole. A
  reshaped object is its own pixels warped into the target too, except
  where the warp enlarges it beyond HELD_STRETCH: there the object's own
  patches repaint it, each keeping to where the warp takes it from unless a
  patch is closer by `object_coherence` (patch_synthesis.py).
- The background: the photo with the object's whole footprint filled
  (hole.py), the hole the object leaves and where the target lies on its
  old place alike, as if the object were simply removed: a coherent copy of
  the photo's background, started from the copy start's matches (or
  searched where there are none), carried from level to level as matches,
  never as an enlarged image, and given MAGIC's tone at the end. The object
  goes on top; its loose margins fade into this background (margins.py),
  on its old place too.

Everything else in the region stays the photo. Levels above the preset's
budget (`max_refine_pixels`) get no search: the finest matches are carried
up and painted with the sharp photo at each level, at a cost linear in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .hole import background_keys, carried, complete, hole_level, match_tone, tone_radius
from .init import BackgroundStart
from .masks import dilate
from .patch_synthesis import PatchLevel, carry_matches, paint, synthesize_level
from .patches import RADIUS, Matches, PatchSpace
from .pyramid import Level, resize, resize_mask
from .region import edit_area
from .smooth import smooth_fill
from .warp import variant_spread, warp_coordinates, warp_into_target, warp_stretch

# A reshaped object keeps its own pixels (warped) where the warp enlarges it at
# most this much; beyond, one pixel would be smeared over several, and the
# object's patches repaint it.
HELD_STRETCH = 1.1


@dataclass
class RefineSettings:
    """The refinement's share of a MagicConfig (its fields keep the config's names), and
    what the run decided: whether the object is copied and whether MAGIC changed it."""

    refine_iterations: int  # search-and-vote rounds per searched level
    patchmatch_iterations: int
    max_refine_pixels: int  # levels with more region pixels are carried, not searched
    patch_dims: int
    object_coherence: float  # how closely object patches keep the warp's correspondence
    vote_reach: int  # how far the patches voting in a level's last round reach (patches.vote)
    copy_object: bool  # the object is the photo's own pixels at the new place (position mode)
    # The level-0 results hold MAGIC's own change (a trained classifier's): a copied
    # object takes its tone. Else they are the start, and the copy arrives untouched.
    carry_change: bool

    @classmethod
    def from_config(cls, config, carry_change: bool) -> "RefineSettings":
        """The settings of a run of `config` (a MagicConfig)."""
        return cls(refine_iterations=config.refine_iterations, patchmatch_iterations=config.patchmatch_iterations,
                   max_refine_pixels=config.max_refine_pixels, patch_dims=config.patch_dims,
                   object_coherence=config.object_coherence, vote_reach=config.vote_reach,
                   copy_object=config.mode == "position", carry_change=carry_change)


@dataclass
class RegionImages:
    """The region at one level: the photo and the masks, on the run's device."""

    photo: torch.Tensor  # (3, H, W) float in [0, 1]
    source: torch.Tensor  # bool (H, W)
    target: torch.Tensor  # bool (H, W)
    free: torch.Tensor  # bool (H, W): the edit area, the pixels results may change
    footprint: torch.Tensor  # bool (H, W): what the object leaves behind, what it takes away grown by the band
    hole: torch.Tensor  # bool (H, W): the footprint less the target, where the background shows

    @classmethod
    def of(cls, photo: torch.Tensor, source: torch.Tensor, target: torch.Tensor, band: int,
           leaves: torch.Tensor | None = None) -> "RegionImages":
        """The edit area is both masks grown by `band`; the footprint is the source so grown
        (its glow and edge pixels a tight selection leaves out go with it), the hole the
        footprint less the target (there the object is). `leaves` (bool (H, W)): the part of
        the source the object takes away, where that is less than all of it (the background
        a loose selection holds stays at the old place, margins.loose_matte; the edit area
        still holds it, but outside the hole and the target a result is the photo's own)."""
        footprint = dilate(source if leaves is None else source & leaves, band)
        return cls(photo, source, target, edit_area(source, target, band), footprint, footprint & ~target)

    def at(self, level: Level) -> "RegionImages":
        target = resize_mask(self.target, level)
        footprint = resize_mask(self.footprint, level, cover="any")
        return RegionImages(resize(self.photo, level).clamp(0, 1), resize_mask(self.source, level), target,
                            resize_mask(self.free, level, cover="any"), footprint, footprint & ~target)


def soften(image: torch.Tensor, level: Level) -> torch.Tensor:
    """`image` at `level` as soft as if it came from the level half as fine."""
    half = Level(max(1, round(level.width / 2)), max(1, round(level.height / 2)), level.scale / 2)
    return resize(resize(image, half), level).clamp(0, 1)


def object_level(images: RegionImages, stretched: torch.Tensor, generator: torch.Generator, dims: int,
                 coherence: float, search_image: torch.Tensor, context: torch.Tensor) -> PatchLevel:
    """The reshaped object's patch problem: its `stretched` pixels copy the object's own
    patches (its edge with what surrounds it included), preferring the first variant's
    stretch (`for_variant` for the others), left only for a patch closer by `coherence`."""
    space = PatchSpace.fit(images.photo, torch.ones_like(images.free), dims, generator)
    object_keys = dilate(images.source, RADIUS)
    return PatchLevel(images.photo, stretched, dilate(images.target, RADIUS), ~object_keys, space,
                      search_image=search_image, context=context,
                      warp=warp_coordinates(images.source, images.target), object_keys=object_keys,
                      coherence=coherence)


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


@dataclass
class _Variant:
    """One result on its way up: its object's and its background's pixels and matches at the current level."""

    spread: float
    guide: torch.Tensor  # (3, h0, w0) MAGIC's result at level 0
    background_start: BackgroundStart | None = None  # the copy start's background at level 0
    image: torch.Tensor | None = None  # the object on its background
    object_matches: Matches | None = None
    background: torch.Tensor | None = None  # the photo with the footprint filled
    background_matches: Matches | None = None
    tone_guide: torch.Tensor | None = None  # the background's tone at level 0 (MAGIC's where it shows)


def _object_layer(images: RegionImages, variant: _Variant, level: Level, previous: Level | None,
                  previous_photo: torch.Tensor | None, settings: RefineSettings, generator, index: int):
    """The variant's object at `level` (its target is what counts; around it is what the
    object's patches see): the photo's own pixels warped into the target, repainted by
    the object's patches only where the warp enlarges it beyond what its pixels hold
    (HELD_STRETCH)."""
    moved = warp_into_target(images.photo, images.source, images.target, variant.spread)
    if settings.copy_object:
        return torch.where(images.target[None], moved, images.photo)
    held = images.target & (warp_stretch(images.source, images.target, variant.spread) <= HELD_STRETCH)
    # The result so far (MAGIC's object, its hole filled) where the object goes and where
    # the hole is; the photo's own pixels elsewhere: there an enlarged coarse result
    # would put a lighter, blurred band of sky with light specks around the object.
    so_far = variant.guide if previous is None else resize(variant.image, level).clamp(0, 1)
    around = torch.where((images.hole | images.target)[None], so_far, images.photo)
    around = torch.where(held[None], moved, around)
    stretched = images.target & ~held
    if not stretched.any():
        variant.object_matches = None
        return around
    if previous is None:
        soft_photo, guide = soften(images.photo, level), soften(around, level)
    else:
        soft_photo, guide = resize(previous_photo, level), around
    plevel = for_variant(object_level(images, stretched, generator, settings.patch_dims, settings.object_coherence,
                                      soft_photo, around), images, index)
    start = None if previous is None or variant.object_matches is None else \
        carry_matches(variant.object_matches, previous, level, plevel)
    # Above the budget the coarser level's matches are carried; where it stretched
    # nothing (no matches), the few stretched pixels here are searched.
    if previous is not None and level.pixels > settings.max_refine_pixels and start is not None:
        variant.object_matches = start
        return paint(plevel, torch.where(images.target[None], guide, around), start, settings.vote_reach)
    image, variant.object_matches = synthesize_level(plevel, guide, settings.refine_iterations, start,
                                                     settings.patchmatch_iterations, generator,
                                                     settings.vote_reach)
    return image


def _fill_background(footprint_level: PatchLevel | None, images: RegionImages, variant: _Variant, level: Level,
                     previous: Level | None, settings: RefineSettings, generator) -> torch.Tensor:
    """The variant's background at `level`: the photo with the object's footprint (the
    level's patch problem `footprint_level`) filled, as if the object were simply removed;
    its matches are kept for the next level."""
    if footprint_level is None:
        variant.background_matches = None
        return images.photo
    if previous is None:
        start = _background_start(footprint_level, variant.background_matches)
        # MAGIC's result where the hole shows; under the target it holds the object, and
        # the start's background is the first guess there (a smooth one without a copy start).
        seed = variant.background_start
        before = smooth_fill(images.photo, ~images.footprint) if seed is None else seed.background
        image = torch.where(images.hole[None], variant.guide, torch.where(images.footprint[None], before,
                                                                          images.photo))
        variant.tone_guide = image
    else:
        if variant.background_matches is None:
            raise ValueError("a finer level needs the background's matches of the level before")
        image, start = carried(footprint_level, variant.background_matches, previous, level)
        if level.pixels > settings.max_refine_pixels:
            variant.background_matches = start
            return image
    # A finer level starts from the coarser one's matches, already coherent: one
    # PatchMatch pass per round settles the seams (the first level searches more).
    searches = settings.patchmatch_iterations if previous is None else 1
    image, variant.background_matches = complete(footprint_level, image, start, settings.refine_iterations, searches,
                                                 generator)
    return image


def _background_start(level: PatchLevel, matches: Matches | None) -> Matches | None:
    """The start's matches for `level`'s queries (flat pixel -> key, -1: none), a query
    without one starting on itself (not a key: any allowed patch beats it)."""
    if matches is None:
        return None
    lookup = torch.full((level.height * level.width,), -1, dtype=torch.long, device=level.queries.device)
    lookup[matches.queries] = matches.keys
    keys = lookup[level.queries]
    keys = torch.where(keys >= 0, keys, level.queries)
    return Matches(level.queries, keys, torch.zeros(len(keys), device=keys.device))


def refine(results: torch.Tensor, region: RegionImages, levels: list, settings: RefineSettings,
           generator: torch.Generator, on_level=None, background_starts: list | None = None,
           look_alikes: torch.Tensor | None = None) -> tuple:
    """results: (B, 3, h0, w0) in [0, 1] at levels[0] -> (images, backgrounds, report):
    (B, 3, H, W) each at the last level; a background is its image without the object
    (the footprint filled), for the object's margins to fade into (margins.fade_margins).

    background_starts: per variant, the copy start's BackgroundStart at level 0
    (its background and matches, flat region pixels -> flat region keys; see
    init.starting_images), or None to search. look_alikes: bool (h0, w0),
    where the photo looks like the object at level 0 (the background does not
    copy from there). on_level(index, count) is called before each finer level
    (progress, cancel).
    """
    report = RefineReport()
    starts = background_starts or [None] * len(results)
    variants = [_Variant(variant_spread(b), result, start,
                         background_matches=None if start is None else start.matches)
                for b, (result, start) in enumerate(zip(results, starts))]
    previous = previous_photo = None
    for index, level in enumerate(levels):
        if index > 0 and on_level is not None:
            on_level(index, len(levels) - 1)
        native_size = (level.height, level.width) == tuple(region.photo.shape[-2:])
        here = region if native_size else region.at(level)
        alike = None if look_alikes is None else resize_mask(look_alikes, level, cover="any")
        footprint_level = hole_level(here.photo, here.footprint, here.photo, background_keys(here.source, alike),
                                     settings.patch_dims, generator) if here.footprint.any() else None
        for b, variant in enumerate(variants):
            placed = _object_layer(here, variant, level, previous, previous_photo, settings, generator, b)
            variant.background = _fill_background(footprint_level, here, variant, level, previous, settings, generator)
            variant.image = torch.where(here.target[None], placed, variant.background)
        searched = index == 0 or level.pixels <= settings.max_refine_pixels
        (report.searched if searched else report.carried).append([level.width, level.height])
        previous, previous_photo = level, here.photo
    last = levels[-1]
    radius = tone_radius(levels[0], last)
    images, backgrounds = [], []
    for variant in variants:
        # MAGIC's tone: over the background, and over a copied object (what the optimisation changed in it).
        background = variant.background
        if variant.tone_guide is not None:
            background = match_tone(background, resize(variant.tone_guide, last).clamp(0, 1), here.footprint, radius)
        image = torch.where(here.target[None], variant.image, background)
        if settings.copy_object and settings.carry_change:
            image = match_tone(image, resize(variant.guide, last).clamp(0, 1), here.target, radius)
        images.append(image)
        backgrounds.append(background)
    return _at_region(torch.stack(images), region), _at_region(torch.stack(backgrounds), region), report


def _at_region(images: torch.Tensor, region: RegionImages) -> torch.Tensor:
    """(B, 3, H, W) `images` at the region's size, the photo outside the edit area."""
    height, width = region.photo.shape[-2:]
    if images.shape[-2:] != (height, width):  # a tiny region was enlarged for the classifier
        images = resize(images, Level(width, height, 1.0)).clamp(0, 1)
    return torch.where(region.free[None, None], images, region.photo[None])
