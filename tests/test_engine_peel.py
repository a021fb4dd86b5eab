"""Texture growth from a hole's edge: what runs into the hole carries on across it."""

import pytest
import torch

from engine_fixtures import disc_scene
from magic_engine.fill import fill_hole
from magic_engine.init import vacated_area
from magic_engine.masks import dilate
from magic_engine.patches import RADIUS
from magic_engine.peel import grow_into_hole
from magic_engine.pyramid import Level
from magic_engine.warp import warp_into_target


def _banded(height=40, width=60, seed=0):
    """Sky above, a dark band across the middle, ground below, each with a little grain."""
    generator = torch.Generator().manual_seed(seed)
    photo = torch.empty(3, height, width)
    photo[:] = torch.tensor([0.3, 0.4, 0.8])[:, None, None]
    photo[:, 18:24] = torch.tensor([0.1, 0.1, 0.15])[:, None, None]
    photo[:, 24:] = torch.tensor([0.6, 0.5, 0.3])[:, None, None]
    return (photo + 0.02 * torch.randn(photo.shape, generator=generator)).clamp(0, 1)


def test_a_band_that_runs_into_the_hole_carries_on_across_it_and_known_pixels_stay():
    photo = _banded()
    hole = torch.zeros(40, 60, dtype=torch.bool)
    hole[8:34, 25:35] = True  # across sky, band and ground
    keys = ~dilate(hole, RADIUS)
    grown = grow_into_hole(photo, photo, hole, keys, torch.Generator().manual_seed(0))
    assert torch.equal(grown[:, ~hole], photo[:, ~hole])
    inside = grown[:, :, 25:35]
    assert (inside[:, 19:23].mean((1, 2)) - torch.tensor([0.1, 0.1, 0.15])).abs().max() < 0.05  # the band
    assert (inside[:, 9:16].mean((1, 2)) - torch.tensor([0.3, 0.4, 0.8])).abs().max() < 0.05  # the sky above it
    assert (inside[:, 26:33].mean((1, 2)) - torch.tensor([0.6, 0.5, 0.3])).abs().max() < 0.05  # the ground
    # The photo's own colours, never a blend: every grown pixel is some key pixel's value.
    values = photo.flatten(1).T
    grown_values = grown[:, hole].T
    exact = torch.cdist(grown_values, values, compute_mode="donot_use_mm_for_euclid_dist")
    assert exact.min(1).values.max() < 1e-6


def test_growth_picks_among_equally_good_patches_at_random():
    photo = _banded()
    hole = torch.zeros(40, 60, dtype=torch.bool)
    hole[4:14, 25:35] = True  # in the grainy sky: many patches fit as well
    keys = ~dilate(hole, RADIUS)
    first = grow_into_hole(photo, photo, hole, keys, torch.Generator().manual_seed(0))
    again = grow_into_hole(photo, photo, hole, keys, torch.Generator().manual_seed(0))
    other = grow_into_hole(photo, photo, hole, keys, torch.Generator().manual_seed(1))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_growth_refuses_what_it_cannot_do():
    photo = _banded()
    everything = torch.ones(40, 60, dtype=torch.bool)
    with pytest.raises(ValueError, match="nothing to grow from"):
        grow_into_hole(photo, photo, everything, ~everything, torch.Generator())
    hole = torch.zeros(40, 60, dtype=torch.bool)
    hole[10:20, 10:20] = True
    with pytest.raises(ValueError, match="no key patch"):
        grow_into_hole(photo, photo, hole, torch.zeros_like(hole), torch.Generator())
    assert torch.equal(grow_into_hole(photo, photo, torch.zeros_like(hole), ~hole, torch.Generator()), photo)


def test_a_grown_fill_removes_the_object_like_a_cloned_one():
    rgb, src, tgt = disc_scene(64, 96)
    photo = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255
    src, tgt = torch.from_numpy(src), torch.from_numpy(tgt)
    moved = warp_into_target(photo, src, tgt)
    hole = vacated_area(src, tgt, dilate(src | tgt, 3), rim=2)
    filled = fill_hole(photo, moved, hole, Level(96, 64, 1.0), torch.Generator().manual_seed(0), clone_rank=None)
    assert torch.equal(filled[:, ~hole], moved[:, ~hole])
    red = torch.tensor([0.85, 0.1, 0.1])[:, None]
    assert ((filled[:, hole] - red).abs().max(0).values > 0.3).float().mean() > 0.95  # the disc is gone
