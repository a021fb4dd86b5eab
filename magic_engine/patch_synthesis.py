"""Patch synthesis at one level: repaint the free pixels of an image with the photo's own patches.

The loop of Wexler et al.'s space-time completion, as GPNN uses it coarse to
fine: find for every patch that touches a free pixel its nearest patch in
the photo, then let the matched patches vote on the free pixels; repeat.
Pixels that are not free never change, and the patches around them take part
in the search, so what is synthesised continues what is kept.

Two kinds of query patches copy from two key sets, which is how the masks
steer texture: patches inside the object's new area (`object_area`) copy
from `object_keys` (refinement: the object's own patches, so the object is
never patched with sky that looks alike when both are soft); all others may
copy only background patches (`background_keys`: none of the object's
pixels), so the hole the object leaves is filled with background and never
with a second copy of the object.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .masks import dilate, window
from .patches import (EXACT_SEARCH_LIMIT, RADIUS, KeySet, Matches, PatchSpace, exact_nearest, patchmatch,
                      vote)
from .pyramid import Level


@dataclass
class PatchLevel:
    """What patch synthesis needs at one level, shared by every variant."""

    photo: torch.Tensor  # (3, H, W) the photo at this level, [0, 1]: the patches that are copied
    free: torch.Tensor  # bool (H, W) pixels that may change
    object_area: torch.Tensor  # bool (H, W) queries here copy from object_keys
    background_keys: torch.Tensor  # bool (H, W) patch centres the other queries may copy
    space: PatchSpace
    search_image: torch.Tensor | None = None  # (3, H, W) what keys look like in the first search (default: photo)
    context: torch.Tensor | None = None  # (3, H, W) the pixels kept outside `free` (default: photo)
    # Where the object's pixels came from (warp.warp_coordinates): object
    # queries start there and leave it only for a patch closer by `coherence`.
    warp: tuple | None = None
    object_pixels: torch.Tensor | None = None  # bool (H, W) the object's new pixels (default: object_area)
    object_keys: torch.Tensor | None = None  # bool (H, W) patch centres object queries may copy (default: all)
    # With `warp`: the correspondence's patch distance counts (1 - coherence)
    # times what it is (patches.patchmatch), so another patch must be that much closer.
    coherence: float | None = None

    def __post_init__(self):
        if self.warp is not None and self.coherence is None:
            raise ValueError("a PatchLevel with a warp needs its coherence")
        height, width = self.free.shape
        self.width, self.height = width, height
        if self.context is None:
            self.context = self.photo
        query_area = dilate(self.free, RADIUS)
        self.queries = torch.nonzero(query_area.flatten())[:, 0]
        self.targets = torch.nonzero(self.free.flatten())[:, 0]
        self.window = window(query_area, RADIUS)
        self.is_object_query = self.object_area.flatten()[self.queries]
        # Object patches vote for the object's own pixels only, so they carry
        # none of the object's old surroundings into its new place.
        self.is_object_target = (self.object_area if self.object_pixels is None
                                 else self.object_pixels).flatten()[self.targets]
        self.preferred = self._preferred(self.warp)
        object_keys = torch.ones_like(self.free) if self.object_keys is None else self.object_keys
        sharp = self.space.features(self.photo)
        self._keysets = {"sharp": (KeySet(sharp, object_keys), KeySet(sharp, self.background_keys))}
        if self.search_image is not None:
            soft = self.space.features(self.search_image)
            self._keysets["first"] = (KeySet(soft, object_keys), KeySet(soft, self.background_keys))

    def _preferred(self, warp):
        """Per query, the key its object pixels came from (-1: none)."""
        if warp is None:
            return None
        rows, cols = self.queries // self.width, self.queries % self.width
        key_rows = warp[0][rows].round().long().clamp(RADIUS, self.height - 1 - RADIUS)
        key_cols = warp[1][rows, cols].round().long().clamp(RADIUS, self.width - 1 - RADIUS)
        return torch.where(self.is_object_query, key_rows * self.width + key_cols, -1)

    def with_warp(self, warp: tuple) -> "PatchLevel":
        """This level with the object's pixels taken from `warp` (one variant's own
        stretch); key sets and everything else are shared, not recomputed."""
        level = copy.copy(self)
        level.warp, level.preferred = warp, self._preferred(warp)
        return level

    def with_context(self, context: torch.Tensor) -> "PatchLevel":
        """This level around another image (one variant's); key sets are shared."""
        level = copy.copy(self)
        level.context = context
        return level

    def keysets(self, first: bool):
        return self._keysets["first" if first and "first" in self._keysets else "sharp"]

    def query_features(self, image: torch.Tensor) -> torch.Tensor:
        """(queries, dims) patch features of `image` at the queries, computed over their
        window only (a small edit in a large region costs what the edit costs)."""
        top, bottom, left, right = self.window
        local = (self.queries // self.width - top) * (right - left) + self.queries % self.width - left
        features = self.space.features(image[:, top:bottom, left:right])
        return features.flatten(1)[:, local].T.contiguous()


OBJECT_WINDOW = 0.05  # object queries copy within this fraction of the level's long side of their correspondence


@dataclass(frozen=True)
class Keep:
    """How background queries hold on to their start matches (a hole's coherent copy):
    another key must be closer by `coherence` (see patches.patchmatch)."""

    coherence: float


def _search(level: PatchLevel, query_features: torch.Tensor, first: bool, start: torch.Tensor | None,
            patchmatch_iterations: int, generator: torch.Generator, keep: Keep | None = None):
    """Nearest allowed key for every query of the level, by query class."""
    keys = torch.empty(len(level.queries), dtype=torch.long, device=level.queries.device)
    distances = torch.empty(len(level.queries), dtype=query_features.dtype, device=level.queries.device)
    classes = zip((True, False), level.keysets(first), (level.is_object_query, ~level.is_object_query))
    for is_object, keyset, members in classes:
        index = torch.nonzero(members)[:, 0]
        if len(index) == 0:
            continue
        rows = query_features[index]
        preferred = None if level.preferred is None else level.preferred[index]
        coherence = level.coherence or 0.0
        window = None if preferred is None else max(RADIUS, round(OBJECT_WINDOW * max(level.width, level.height)))
        if not is_object and keep is not None and start is not None:
            preferred, coherence, window = start[index], keep.coherence, None
        if start is None:
            max_keys = max(1024, int(EXACT_SEARCH_LIMIT // len(index)))
            found, dist = exact_nearest(rows, keyset, max_keys=max_keys, generator=generator)
            if len(keyset.indices) <= max_keys and preferred is None:
                keys[index], distances[index] = found, dist
                continue
            begin = found  # a subset was searched, or a preferred match is to be weighed: improve locally
        else:
            begin = start[index]
        if preferred is not None:
            begin = torch.where(preferred >= 0, preferred, begin)
        found, dist = patchmatch(rows, level.queries[index], level.width, level.height, keyset, begin,
                                 patchmatch_iterations, generator, preferred, coherence, window)
        keys[index], distances[index] = found, dist
    return Matches(level.queries, keys, distances)


def match(level: PatchLevel, image: torch.Tensor, start: Matches | None = None, first: bool = False,
          patchmatch_iterations: int = 4, generator: torch.Generator | None = None, keep: Keep | None = None) -> Matches:
    """Matches of `image`'s query patches at this level (no pixel changes)."""
    generator = generator or torch.Generator().manual_seed(0)
    features = level.query_features(image)
    return _search(level, features, first, None if start is None else start.keys, patchmatch_iterations, generator,
                   keep)


def paint(level: PatchLevel, image: torch.Tensor, matches: Matches, reach: int = RADIUS) -> torch.Tensor:
    """`image` with its free pixels replaced by the vote of `matches` (photo values);
    pixels no patch within `reach` votes for keep their value."""
    voted = vote(level.photo, matches, level.width, level.height, level.targets,
                 query_side=level.is_object_query, target_side=level.is_object_target, reach=reach)
    out = image.clone().flatten(1)
    # A free pixel that no matched patch covers cannot exist (queries cover the
    # free area dilated by the patch radius); keep the old value if it did.
    out[:, level.targets] = torch.where(torch.isnan(voted), out[:, level.targets], voted)
    return out.reshape(image.shape)


def _soft(image: torch.Tensor) -> torch.Tensor:
    """(C, H, W) blurred by a 3x3 binomial kernel (edges replicated): what separates a vote's
    tone (kept from the average) from its grain (kept from the best patch)."""
    kernel = torch.tensor([1.0, 2.0, 1.0], device=image.device, dtype=image.dtype) / 4
    padded = F.pad(image[:, None], (1, 1, 1, 1), mode="replicate")
    out = F.conv2d(padded, kernel.view(1, 1, 1, 3))
    return F.conv2d(out, kernel.view(1, 1, 3, 1))[:, 0]


def sharp_paint(level: PatchLevel, image: torch.Tensor, matches: Matches) -> torch.Tensor:
    """`image` with its free pixels painted by a vote that does not blur: the average of
    every covering patch (seamless tone) for the low frequencies, each pixel's own
    best patch (the photo's grain, a star, a pebble's edge) for the finest ones."""
    top, bottom, left, right = level.window
    average = paint(level, image, matches, RADIUS)[:, top:bottom, left:right]
    own = paint(level, image, matches, 0)[:, top:bottom, left:right]
    blended = (_soft(average) + own - _soft(own)).clamp(0, 1)
    out = image.clone()
    out[:, top:bottom, left:right] = torch.where(level.free[None, top:bottom, left:right], blended,
                                                 image[:, top:bottom, left:right])
    return out


def synthesize_level(level: PatchLevel, image: torch.Tensor, iterations: int, start: Matches | None = None,
                     patchmatch_iterations: int = 4, generator: torch.Generator | None = None,
                     final_reach: int = RADIUS, keep: Keep | None = None, sharp: bool = False):
    """`iterations` rounds of search and vote on `image` (3, H, W); known pixels are
    set to the photo first. The first search compares with `level.search_image`
    (a photo as soft as the guide), the later ones with the sharp photo. The
    last vote has `final_reach` (see patches.vote). With `keep` and `start`,
    background queries hold on to the matches of the round before (`Keep`),
    so a coherent copy stays one. Returns (image, matches)."""
    generator = generator or torch.Generator().manual_seed(0)
    current = torch.where(level.free[None], image, level.context)
    matches = start
    for iteration in range(iterations):
        query_image = image if iteration == 0 and level.search_image is not None else current
        matches = match(level, query_image, matches, iteration == 0, patchmatch_iterations, generator,
                        keep if matches is not None else None)
        if sharp:
            current = sharp_paint(level, current, matches)
        else:
            current = paint(level, current, matches, final_reach if iteration == iterations - 1 else RADIUS)
    return current, matches


def carry_matches(matches: Matches, coarse: Level, fine: Level, fine_level: PatchLevel) -> Matches:
    """Matches for `fine_level`'s queries from those found one level coarser.

    Each fine query takes its coarse parent's displacement, scaled to the
    fine level: a coherent region of matches (a moved object) stays exactly
    coherent. Queries whose parent had no match keep their own position.
    """
    device = fine_level.queries.device
    slot = torch.full((coarse.height * coarse.width,), -1, dtype=torch.long, device=device)
    slot[matches.queries] = torch.arange(len(matches.queries), device=device)
    rows, cols = fine_level.queries // fine.width, fine_level.queries % fine.width
    ry, rx = coarse.height / fine.height, coarse.width / fine.width
    parent_rows = ((rows.double() + 0.5) * ry).floor().long().clamp(0, coarse.height - 1)
    parent_cols = ((cols.double() + 0.5) * rx).floor().long().clamp(0, coarse.width - 1)
    owner = slot[parent_rows * coarse.width + parent_cols]
    has = owner >= 0
    owner = owner.clamp_min(0)
    key = matches.keys[owner]
    shift_rows = (key // coarse.width - parent_rows).double() / ry
    shift_cols = (key % coarse.width - parent_cols).double() / rx
    new_rows = torch.where(has, (rows + shift_rows.round().long()), rows)
    new_cols = torch.where(has, (cols + shift_cols.round().long()), cols)
    new_rows = new_rows.clamp(RADIUS, fine.height - 1 - RADIUS)
    new_cols = new_cols.clamp(RADIUS, fine.width - 1 - RADIUS)
    keys = new_rows * fine.width + new_cols
    return Matches(fine_level.queries, keys, torch.zeros(len(keys), device=device))
