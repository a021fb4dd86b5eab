"""The refinement keeps a repetitive scene's stretch (thin bars stay whole) and lets
patches rebuild an object's shape; the mode decides which."""

import pytest
import torch

from magic_engine.config import ConfigError, make_config
from magic_engine.pyramid import levels_for
from magic_engine.refine import RefineSettings, RegionImages, refine
from magic_engine.region import edit_area
from magic_engine.warp import warp_coordinates


def _lattice(height=96, width=128):
    """A tower of thin crossing bars (2 px, 45 degrees, 16 px apart) against a smooth sky,
    the tower made wider at the top (tapering to its own width at the bottom)."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    source = (cols >= 40) & (cols < 72) & (rows >= 8) & (rows < 88)
    bar = (((rows + cols) % 16) < 2) | (((rows - cols) % 16) < 2)
    sky = torch.stack([0.20 + 0.1 * rows / height, 0.30 + 0.1 * rows / height, 0.6 + 0.0 * rows])
    steel = torch.tensor([0.35, 0.25, 0.15])[:, None, None].expand(3, height, width)
    photo = torch.where((source & bar)[None], steel, sky)
    extra = ((88 - rows) * 16 / 80).round().long()  # 16 px wider at the top, none at the bottom
    target = (cols >= 40) & (cols < 72 + extra) & (rows >= 8) & (rows < 88)
    return photo, source, target


def _refined(coherence: float):
    photo, source, target = _lattice()
    region = RegionImages(photo, source, target, edit_area(source, target, 3))
    levels = levels_for(128, 96, 64, 32)
    coarse = region.at(levels[0])
    # MAGIC's coarse result: the photo with the object stretched into the target (the copy start).
    rows, cols = warp_coordinates(coarse.source, coarse.target)
    stretched = coarse.photo[:, rows.round().long()[:, None], cols.round().long().clamp(0, levels[0].width - 1)]
    start = torch.where(coarse.target[None], stretched, coarse.photo)
    settings = RefineSettings(3, 3, 10**9, 24, coherence, final_reach=0)
    out, _ = refine(start[None], region, levels, settings, torch.Generator().manual_seed(0))
    return out[0], photo, source, target


def _stretched_at_native(photo, source, target):
    rows, cols = warp_coordinates(source, target)
    return photo[:, rows.round().long()[:, None], cols.round().long().clamp(0, photo.shape[-1] - 1)]


def test_a_scene_keeps_its_stretch_where_patches_would_break_the_bars():
    kept, photo, source, target = _refined(make_config("preview", "scene").object_coherence)
    rebuilt, *_ = _refined(make_config("preview", "shape").object_coherence)
    stretch = _stretched_at_native(photo, source, target)
    inside = target & ~source  # where the new width is
    kept_error = (kept - stretch).abs().mean(0)[inside].mean()
    rebuilt_error = (rebuilt - stretch).abs().mean(0)[inside].mean()
    assert kept_error < 0.5 * rebuilt_error, (kept_error, rebuilt_error)
    assert kept_error < 0.02


def test_object_coherence_is_checked():
    assert make_config("preview", "scene").object_coherence > make_config("preview", "shape").object_coherence
    assert make_config("preview", "position").object_coherence == make_config("preview", "shape").object_coherence
    for bad in (-0.1, 1.0):
        with pytest.raises(ConfigError, match="object_coherence"):
            make_config("preview", "shape", object_coherence=bad)
