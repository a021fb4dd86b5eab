"""The refinement keeps a repetitive scene's stretch (a lattice's thin bars run at
angles the photo has nowhere else) and, in the other modes, lets the photo's
patches leave it; the mode decides which."""

import pytest
import torch

from magic_engine.config import ConfigError, make_config
from magic_engine.pyramid import levels_for
from magic_engine.refine import RefineSettings, RegionImages, refine
from magic_engine.warp import warp_coordinates


def _lattice(height=96, width=128):
    """A tower of thin crossing bars (2 px wide along a row, at 45 degrees, every 16 px
    along a row) against a smooth sky, made wider at the top (tapering to its own
    width at the bottom)."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    source = (cols >= 40) & (cols < 72) & (rows >= 8) & (rows < 88)
    bar = (((rows + cols) % 16) < 2) | (((rows - cols) % 16) < 2)
    sky = torch.stack([0.20 + 0.1 * rows / height, 0.30 + 0.1 * rows / height, torch.full((height, width), 0.6)])
    steel = torch.tensor([0.35, 0.25, 0.15])[:, None, None].expand(3, height, width)
    photo = torch.where((source & bar)[None], steel, sky)
    extra = ((88 - rows) * 16 / 80).round().long()  # 16 px wider at the top, none at the bottom
    target = (cols >= 40) & (cols < 72 + extra) & (rows >= 8) & (rows < 88)
    return photo, source, target


def _nearest_stretch(photo, source, target):
    """`photo` with each pixel taken from where the warp's correspondence points (rounded)."""
    rows, cols = warp_coordinates(source, target)
    return photo[:, rows.round().long()[:, None], cols.round().long().clamp(0, photo.shape[-1] - 1)]


def _copy_start(photo, source, target, around: float = 0.0):
    """The lattice's region, its levels, and the copy start at level 0: the object
    stretched into the target, the photo (made lighter by `around`) elsewhere."""
    region = RegionImages.of(photo, source, target, 3)
    levels = levels_for(128, 96, 64, 32)
    coarse = region.at(levels[0])
    start = torch.where(coarse.target[None], _nearest_stretch(coarse.photo, coarse.source, coarse.target),
                        (coarse.photo + around).clamp(0, 1))
    return region, levels, start


def _refined(coherence: float):
    """Two variants refined from the copy start (the object stretched into the target at
    level 0) to the region's resolution; the second stretches its own way."""
    photo, source, target = _lattice()
    region, levels, start = _copy_start(photo, source, target)
    settings = RefineSettings.from_config(make_config("preview", "shape", max_refine_pixels=10**9,
                                                      object_coherence=coherence), carry_change=True)
    out, _, _ = refine(torch.stack([start, start]), region, levels, settings, torch.Generator().manual_seed(0))
    return out, _nearest_stretch(photo, source, target), target & ~source


def test_scene_mode_keeps_the_warp_correspondence_and_shape_mode_leaves_it():
    kept, stretch, new_width = _refined(make_config("preview", "scene").object_coherence)
    left, *_ = _refined(make_config("preview", "shape").object_coherence)
    # The first variant keeps the (even) stretch itself where the new width is.
    kept_error = (kept[0] - stretch).abs().mean(0)[new_width].mean()
    left_error = (left[0] - stretch).abs().mean(0)[new_width].mean()
    assert kept_error < 0.5 * left_error, (kept_error, left_error)
    assert kept_error < 0.02
    # Patches break the bars (fewer steel pixels: 0.17 against 0.23 of the new width).
    steel, steel_left = ((images.mean(1) < 0.3)[:, new_width].float().mean(1) for images in (kept, left))
    assert steel[0] > 1.2 * steel_left[0], (steel, steel_left)
    # The second variant stretches another way, and keeps that too: its bars are as dense.
    assert (kept[1] - kept[0]).abs().mean(0)[new_width].mean() > 0.01  # another stretch
    assert steel[1] == pytest.approx(float(steel[0]), rel=0.1)


def test_object_coherence_is_set_by_mode_and_checked():
    assert make_config("preview", "scene").object_coherence > make_config("preview", "shape").object_coherence
    assert make_config("preview", "position").object_coherence == make_config("preview", "shape").object_coherence
    for bad in (-0.1, 1.0):
        with pytest.raises(ConfigError, match="object_coherence"):
            make_config("preview", "shape", object_coherence=bad)


def test_a_reshaped_objects_surroundings_outside_its_hole_stay_the_photos_own_pixels():
    # MAGIC's coarse result is lighter around the object (drift, or a halo of the
    # object's blurred edge): enlarged to the photo's resolution it would be a light,
    # blurred band around the reshaped object. Outside the object and its hole the
    # refinement keeps the photo's own pixels, as a move does.
    photo, source, target = _lattice()
    region, levels, start = _copy_start(photo, source, target, around=0.2)
    settings = RefineSettings.from_config(make_config("preview", "shape", max_refine_pixels=10**9),
                                          carry_change=True)
    out, _, _ = refine(start[None], region, levels, settings, torch.Generator().manual_seed(0))
    around = region.free & ~region.target & ~region.hole
    assert around.sum() > 100
    assert torch.equal(out[0][:, around], photo[:, around])


def test_the_background_under_the_reshaped_object_is_its_surroundings():
    # The wider tower covers its old place: the background there (which its loose
    # margins fade into) is sky, as if the tower were removed, never the old bars.
    photo, source, target = _lattice()
    region, levels, start = _copy_start(photo, source, target)
    settings = RefineSettings.from_config(make_config("preview", "shape", max_refine_pixels=10**9),
                                          carry_change=True)
    _, backgrounds, _ = refine(start[None], region, levels, settings, torch.Generator().manual_seed(0))
    under = region.footprint & region.target
    assert under.sum() > 1000
    steel = (backgrounds[0].mean(0) < 0.3) & under
    assert steel.sum() < 0.01 * under.sum(), int(steel.sum())
    outside = ~region.footprint
    assert torch.equal(backgrounds[0][:, outside], photo[:, outside])


def test_a_stretch_that_appears_only_above_the_search_budget_is_searched_there():
    # 30 px widened to 33: within HELD_STRETCH at the coarse level (the masks round to
    # the same width there), beyond it at the region's own. That level is over the
    # budget, so its matches would be carried; there are none to carry.
    rows, cols = torch.meshgrid(torch.arange(96), torch.arange(128), indexing="ij")
    photo = torch.rand(3, 96, 128, generator=torch.Generator().manual_seed(0))
    source = (cols >= 40) & (cols < 70) & (rows >= 8) & (rows < 88)
    target = (cols >= 40) & (cols < 73) & (rows >= 8) & (rows < 88)
    region = RegionImages.of(photo, source, target, 3)
    levels = levels_for(128, 96, 64, 32)
    settings = RefineSettings.from_config(make_config("preview", "shape", max_refine_pixels=1), carry_change=True)
    out, _, _ = refine(region.at(levels[0]).photo[None], region, levels, settings, torch.Generator().manual_seed(0))
    assert out.shape == (1, 3, 96, 128) and torch.isfinite(out).all()
