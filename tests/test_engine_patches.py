"""Patch search and voting: known answers on images built for the purpose."""

import numpy as np
import pytest
import torch

from magic_engine.masks import box_blur, dilate, erode
from magic_engine.patch_synthesis import PatchLevel, carry_matches, match, paint, synthesize_level
from magic_engine.patches import (RADIUS, KeySet, Matches, PatchSpace, exact_nearest, patchmatch, valid_centres,
                                  vote)
from magic_engine.pyramid import Level


def _texture(height=40, width=56, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.random((3, height, width), dtype=np.float32))


def _space(image, dims=24):
    return PatchSpace.fit(image, torch.ones(image.shape[1:], dtype=torch.bool), dims, torch.Generator().manual_seed(0))


def test_patch_space_distances_follow_patch_distances():
    image = _texture()
    space = PatchSpace.fit(image, torch.ones(40, 56, dtype=torch.bool), 147, torch.Generator().manual_seed(0))
    features = space.features(image).flatten(1)
    a, b = 20 * 56 + 20, 25 * 56 + 30  # two pixels well inside
    full = ((image[:, 17:24, 17:24] - image[:, 22:29, 27:34]) ** 2).sum()
    assert ((features[:, a] - features[:, b]) ** 2).sum() == pytest.approx(full.item(), rel=1e-3)


def test_exact_search_finds_every_patch_itself():
    image = _texture()
    space = _space(image)
    keys = KeySet(space.features(image), torch.ones(40, 56, dtype=torch.bool))
    inside = torch.nonzero(valid_centres(40, 56).flatten())[:, 0]
    queries = keys.features[inside]
    found, distance = exact_nearest(queries, keys)
    assert torch.equal(found, inside) and distance.max() < 1e-4


def _moved_queries(rows: slice):
    """Queries from a 48x64 texture moved by (5, -7), over `rows` of columns 18..45:
    (keys of the texture, query pixels, their features, each query's true match)."""
    image = _texture(48, 64)
    shifted = torch.roll(image, shifts=(5, -7), dims=(1, 2))
    space = _space(image)
    keys = KeySet(space.features(image), torch.ones(48, 64, dtype=torch.bool))
    region = torch.zeros(48, 64, dtype=torch.bool)
    region[rows, 18:46] = True
    queries = torch.nonzero(region.flatten())[:, 0]
    query_features = space.features(shifted).flatten(1)[:, queries].T.contiguous()
    return keys, queries, query_features, (queries // 64 - 5) * 64 + (queries % 64 + 7)


def test_patchmatch_recovers_a_shift_from_a_random_start():
    keys, queries, query_features, expected = _moved_queries(slice(14, 34))
    start = keys.indices[torch.randint(len(keys.indices), (len(queries),), generator=torch.Generator().manual_seed(1))]
    found, _ = patchmatch(query_features, queries, 64, 48, keys, start, 6, torch.Generator().manual_seed(2))
    assert (found == expected).float().mean() > 0.95


def test_a_correspondence_is_left_only_for_keys_within_its_window():
    # The queries are the image moved by (5, -7); each prefers the key 10 rows below its
    # true match. With no window PatchMatch finds the true match; with a window of 3 px
    # it may not go that far and stays within 3 px of the preferred key.
    keys, queries, query_features, true = _moved_queries(slice(14, 24))
    preferred = true + 10 * 64
    free, _ = patchmatch(query_features, queries, 64, 48, keys, preferred, 6, torch.Generator().manual_seed(2),
                         preferred, 0.25)
    held, _ = patchmatch(query_features, queries, 64, 48, keys, preferred, 6, torch.Generator().manual_seed(2),
                         preferred, 0.25, window=3)
    assert (free == true).float().mean() > 0.9
    assert ((held // 64 - preferred // 64).abs() <= 3).all() and ((held % 64 - preferred % 64).abs() <= 3).all()


def test_keys_that_are_not_allowed_are_never_matched():
    image = _texture()
    allowed = torch.ones(40, 56, dtype=torch.bool)
    allowed[:, :28] = False
    space = _space(image)
    keys = KeySet(space.features(image), allowed)
    queries = keys.features[torch.arange(0, 40 * 56, 7)]
    found, _ = exact_nearest(queries, keys)
    assert (found % 56 >= 28).all()


def test_vote_of_identity_matches_reproduces_the_image_and_reach_limits_voters():
    image = _texture()
    free = torch.zeros(40, 56, dtype=torch.bool)
    free[10:30, 12:40] = True
    queries = torch.nonzero(dilate(free, RADIUS).flatten())[:, 0]
    rows, cols = queries // 56, queries % 56
    keys = rows.clamp(RADIUS, 40 - 1 - RADIUS) * 56 + cols.clamp(RADIUS, 56 - 1 - RADIUS)
    matches = Matches(queries, keys, torch.zeros(len(queries)))
    targets = torch.nonzero(free.flatten())[:, 0]
    voted = vote(image, matches, 56, 40, targets)
    assert torch.allclose(voted, image.flatten(1)[:, targets], atol=1e-6)
    alone = vote(image, matches, 56, 40, targets, reach=0)
    assert torch.allclose(alone, image.flatten(1)[:, targets], atol=1e-6)
    sides = vote(image, matches, 56, 40, targets, query_side=torch.zeros(len(queries), dtype=torch.bool),
                 target_side=torch.ones(len(targets), dtype=torch.bool))
    assert torch.isnan(sides).all()  # no patch on the targets' side: nothing votes


def _stripes(height, width, period=6):
    cols = torch.arange(width)
    value = ((cols // (period // 2)) % 2).float()
    image = torch.stack([value * 0.8 + 0.1, value * 0.2 + 0.3, 1 - value * 0.7])[:, None].expand(3, height, width)
    return image.contiguous()


def test_synthesis_fills_a_hole_with_the_surrounding_texture_and_keeps_the_rest():
    photo = _stripes(40, 60)
    hole = torch.zeros(40, 60, dtype=torch.bool)
    hole[12:28, 20:40] = True
    guide = torch.where(hole[None], torch.full_like(photo, 0.5), photo)  # a flat grey hole
    space = _space(photo)
    level = PatchLevel(photo, hole, torch.zeros_like(hole), ~dilate(hole, RADIUS), space)
    filled, _ = synthesize_level(level, guide, 4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(filled[:, ~hole], photo[:, ~hole])  # bit-identical outside
    assert (filled[:, hole] - photo[:, hole]).abs().mean() < 0.05  # the stripes continue through the hole
    assert filled[:, hole].std() > 0.8 * photo.std()  # texture, not a blur


def test_carried_matches_keep_a_coherent_shift_across_levels():
    coarse, fine = Level(30, 20, 0.5), Level(60, 40, 1.0)
    queries = torch.arange(20 * 30)
    rows, cols = queries // 30, queries % 30
    keys = (rows.clamp(RADIUS, 20 - 1 - RADIUS) * 30 + (cols + 4).clamp(RADIUS, 30 - 1 - RADIUS))
    photo = _texture(40, 60)
    free = torch.zeros(40, 60, dtype=torch.bool)
    free[15:25, 10:30] = True
    level = PatchLevel(photo, free, torch.zeros_like(free), torch.ones_like(free), _space(photo))
    carried = carry_matches(Matches(queries, keys, torch.zeros(len(queries))), coarse, fine, level)
    shift = carried.keys % 60 - carried.queries % 60
    assert (shift == 8).float().mean() > 0.9  # 4 coarse pixels are 8 fine ones


def test_morphology_is_square_and_border_friendly():
    mask = torch.zeros(9, 9, dtype=torch.bool)
    mask[4, 4] = True
    assert dilate(mask, 2).sum() == 25
    assert erode(dilate(mask, 2), 2).sum() == 1
    edge = torch.zeros(6, 6, dtype=torch.bool)
    edge[:, :3] = True
    assert erode(edge, 1)[:, 0].all()  # beyond the border counts as inside
    assert box_blur(torch.ones(5, 5), 2).allclose(torch.ones(5, 5))


def test_match_then_paint_with_identity_guide_changes_nothing():
    photo = _texture(32, 40, seed=3)
    free = torch.zeros(32, 40, dtype=torch.bool)
    free[8:24, 8:30] = True
    level = PatchLevel(photo, free, torch.zeros_like(free), torch.ones_like(free), _space(photo, 147))
    found = match(level, photo)
    painted = paint(level, photo, found)
    assert torch.allclose(painted, photo, atol=1e-5)
