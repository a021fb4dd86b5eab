"""Diversity: how different are the variants of one run from each other?

The figure is the mean absolute RGB difference (pixel values in [0, 1])
between every pair of variants, over the edited area only. 0 means all
variants are the same; it is a plain pixel distance, not a perceptual one
(no LPIPS: that needs downloaded network weights). Higher means more
diverse, which is only good if the other figures stay good.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def mean_pairwise_difference(images: list, area: np.ndarray) -> float | None:
    """Mean over pairs of the mean |a - b| inside `area` (bool H, W); None for fewer than 2 images."""
    if len(images) < 2:
        return None
    area = np.asarray(area, bool)
    if not area.any():
        raise ValueError("the area to compare is empty")
    pixels = [np.asarray(image)[..., :3][area].astype(np.float32) / 255 for image in images]
    distances = [np.abs(a - b).mean() for a, b in combinations(pixels, 2)]
    return float(np.mean(distances))
