"""Morphology on bool masks (torch, any device): square dilation and erosion, box blur,
and the highest and lowest values of an image over a mask's pixels nearby.

All are separable (a row pass, then a column pass), so a wide band around an
edit in a large photo costs a few passes over its pixels, not radius^2 each.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _separable(image: torch.Tensor, radius: int, pool) -> torch.Tensor:
    """`pool` over a (2r+1)-pixel square of each pixel of (H, W) or (C, H, W) `image`."""
    x = image.float()[:, None] if image.dim() == 3 else image[None, None].float()
    x = pool(x, (1, 2 * radius + 1), stride=1, padding=(0, radius))
    x = pool(x, (2 * radius + 1, 1), stride=1, padding=(radius, 0))
    return x[:, 0] if image.dim() == 3 else x[0, 0]


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """bool (H, W) grown by a (2r+1)-pixel square."""
    if radius <= 0:
        return mask.clone()
    return _separable(mask, radius, F.max_pool2d) > 0


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """bool (H, W) shrunk by a (2r+1)-pixel square. Beyond the border counts as
    inside: an object cut by the photo's edge is edited right up to that edge."""
    if radius <= 0:
        return mask.clone()
    return ~dilate(~mask, radius)


def window(mask: torch.Tensor, margin: int) -> tuple:
    """(top, bottom, left, right) of `mask`'s pixels grown by `margin`, inside the image
    (bottom and right exclusive); the whole image for an empty mask. Work that only
    touches a small edit in a large region is done on this window."""
    height, width = mask.shape
    rows, cols = torch.nonzero(mask, as_tuple=True)
    if len(rows) == 0:
        return 0, height, 0, width
    return (max(0, int(rows.min()) - margin), min(height, int(rows.max()) + margin + 1),
            max(0, int(cols.min()) - margin), min(width, int(cols.max()) + margin + 1))


def local_extremes(image: torch.Tensor, where: torch.Tensor, radius: int) -> tuple:
    """(C, H, W) highest and lowest value of `image` (C, H, W) among the `where` pixels
    within a (2r+1)-pixel square of each pixel (-inf and inf where there are none)."""
    def highest(values):
        return _separable(torch.where(where, values, torch.tensor(-torch.inf, device=values.device)), radius,
                          F.max_pool2d)
    return highest(image.float()), -highest(-image.float())


def box_blur(image: torch.Tensor, radius: int) -> torch.Tensor:
    """float (H, W) averaged over a (2r+1)-pixel square, edges replicated."""
    if radius <= 0:
        return image.clone()
    x = F.pad(image[None, None].float(), (radius,) * 4, mode="replicate")
    x = F.avg_pool2d(x, (1, 2 * radius + 1), stride=1)
    x = F.avg_pool2d(x, (2 * radius + 1, 1), stride=1)
    return x[0, 0]


def masked_mean(image: torch.Tensor, where: torch.Tensor, radius: int) -> torch.Tensor:
    """(C, h, w) mean of `image` over the `where` pixels (bool (h, w)) within a box of
    `radius` around each pixel (0 where there are none)."""
    count = box_blur(where.float(), radius).clamp_min(1e-6)
    return torch.stack([box_blur(channel * where, radius) for channel in image]) / count
