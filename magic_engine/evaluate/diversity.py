"""Diversity: how different are the variants of one run from each other?

The figure is the mean absolute RGB difference (pixel values in [0, 1])
between every pair of variants, over the edited area only. 0 means all
variants are the same; it is a plain pixel distance, not a perceptual one
(no LPIPS: that needs downloaded network weights). Higher means more
diverse, which is only good if the other figures stay good.

How much variants can differ depends on the photo: two good fills of a
smooth sky are nearly the same picture; two of a meadow are not.
`photo_variation` is the yardstick: the same distance between pieces of the
photo's own background one patch apart, so diversity / photo variation near
1 means the variants differ as two nearby pieces of that background do.
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


PIECE_OFFSET = 7  # px: one patch apart (patches.PATCH_SIZE)


def photo_variation(image: np.ndarray, area: np.ndarray, offset: int = PIECE_OFFSET) -> float | None:
    """Mean |a - b| (0..1) between pixels of `image` `offset` px apart (right and down)
    with both inside `area`; None where no such pair exists."""
    area = np.asarray(area, bool)
    pixels = np.asarray(image)[..., :3].astype(np.float32) / 255
    height, width = area.shape
    distances = []
    for dy, dx in ((0, offset), (offset, 0)):
        both = area[:height - dy, :width - dx] & area[dy:, dx:]
        if both.any():
            a = pixels[:height - dy, :width - dx][both]
            b = pixels[dy:, dx:][both]
            distances.append(np.abs(a - b).mean())
    return float(np.mean(distances)) if distances else None
