"""The resolutions MAGIC works at, from the classifier's scale up to the photo's own.

Level 0 is where the classifier sees the region at about the scale it was
trained on (`size` x `size` pixels in area); each next level is twice as
fine, and the last is the region at its own resolution (scale 1), reached
in a step of 1.25x to 2.5x. Every
level keeps the region's aspect ratio: a side is the region's side times the
level's scale, rounded, never stretched to a tidy multiple.

A preset's budget (`max_refine_pixels`) can stop the search for patches
before the photo's resolution; the levels above it are still produced, by
carrying the finest matches up without searching (see refine.py), never by
a plain resize.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

MAX_AREA_FACTOR = 4  # level 0 never takes more than 4 * size * size pixels
LAST_STEP_FROM = 0.8  # a level this close to the region's own size is skipped (steps of 1.25..2.5)

@dataclass(frozen=True)
class Level:
    width: int
    height: int
    scale: float  # level pixels per region pixel

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _level(region_width: int, region_height: int, scale: float) -> Level:
    return Level(max(1, round(region_width * scale)), max(1, round(region_height * scale)), scale)


def coarse_scale(region_width: int, region_height: int, size: int, min_side: int) -> float:
    """Scale of level 0: about size*size pixels in area, and no side below
    `min_side` (the classifier needs room), unless that would take more than
    MAX_AREA_FACTOR times the area (a very elongated region; the short side
    is then smaller). Above 1 only for tiny regions."""
    scale = min(1.0, math.sqrt(size * size / (region_width * region_height)))
    if min(region_width, region_height) * scale < min_side:
        widest = math.sqrt(MAX_AREA_FACTOR * size * size / (region_width * region_height))
        scale = min(min_side / min(region_width, region_height), max(scale, widest))
    return scale


def levels_for(region_width: int, region_height: int, size: int, min_side: int) -> list:
    """Levels from the classifier's scale (level 0) to the region's own (last).
    A region no larger than the classifier's scale has a single level."""
    scale = coarse_scale(region_width, region_height, size, min_side)
    levels = [_level(region_width, region_height, scale)]
    while scale < 1.0:
        # Twice as fine, but no last step that is hardly one: from 0.4 on, straight to 1.
        scale = 1.0 if 2.0 * scale >= LAST_STEP_FROM else 2.0 * scale
        levels.append(_level(region_width, region_height, scale))
    return levels


def resize(image: torch.Tensor, level: Level) -> torch.Tensor:
    """(..., C, H, W) float image to the level's size: antialiased bicubic down, bicubic up."""
    batched = image if image.dim() == 4 else image[None]
    height, width = batched.shape[-2:]
    if (height, width) == (level.height, level.width):
        return image.clone()
    shrink = level.height < height or level.width < width
    out = F.interpolate(batched, size=(level.height, level.width), mode="bicubic", align_corners=False,
                        antialias=shrink)
    return out if image.dim() == 4 else out[0]


def resize_mask(mask: torch.Tensor, level: Level, cover: str = "half") -> torch.Tensor:
    """bool (H, W) mask at the level's size. cover="half": in where at least half
    of the pixels it covers were; "any": in where any was (thin masks survive)."""
    height, width = mask.shape
    if (height, width) == (level.height, level.width):
        return mask.clone()
    coverage = F.interpolate(mask[None, None].float(), size=(level.height, level.width), mode="area")[0, 0]
    if level.height > height or level.width > width:  # enlarging: area is nearest, which is right
        return coverage > 0.5
    return coverage > 0 if cover == "any" else coverage >= 0.5
