"""Smooth fills: unknown pixels given a smooth blend of the known ones.

Two kinds, for two jobs. `smooth_fill` (push-pull) blends over a pyramid:
cheap, and every unknown pixel gets a value however far the known ones
are, but far from them the value is a wide average (a guess of the
background behind a whole object). `membrane_fill` solves Laplace's
equation, as the heal tool does: each unknown pixel is the mean of its
neighbours, so it takes its value from the known pixels nearest to it.
Beside a tall narrow hole the sides decide, not a bright light at its foot
that a wide average would carry up the whole column.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .masks import window

MEMBRANE_SWEEPS = 40  # relaxation sweeps per scale: the coarser scale's answer leaves only a few pixels' error
MEMBRANE_DAMPING = 0.8  # under-relaxed, so that a checkerboard error dies out too


def smooth_fill(image: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Push-pull fill: unknown pixels of `image` (C, h, w) get a smooth blend of
    the known ones around them (`known`: bool (h, w))."""
    if known.all() or not known.any():
        return image
    weights = known[None].float()
    values = image * weights
    pyramid = []
    while min(weights.shape[-2:]) > 1 and not (weights > 0).all():
        pyramid.append((values, weights))
        values = F.avg_pool2d(values[None], 2, ceil_mode=True)[0]
        weights = F.avg_pool2d(weights[None], 2, ceil_mode=True)[0]
    filled = values / weights.clamp_min(1e-8)
    if not (weights > 0).all():  # a 1-pixel-wide level still has holes: use the mean
        mean = values.sum((-2, -1), keepdim=True) / weights.sum((-2, -1), keepdim=True).clamp_min(1e-8)
        filled = torch.where(weights > 0, filled, mean)
    for values, weights in reversed(pyramid):
        coarse = F.interpolate(filled[None], size=values.shape[-2:], mode="bilinear", align_corners=False)[0]
        blend = weights.clamp(0, 1)
        filled = values / weights.clamp_min(1e-8) * blend + coarse * (1 - blend)
    return torch.where(known[None], image, filled)


def _neighbour_sum(image: torch.Tensor) -> torch.Tensor:
    """(C, h, w) sum of each pixel's four neighbours (0 beyond the border)."""
    cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=image.dtype, device=image.device)
    channels = image.shape[0]
    return F.conv2d(image[None], cross.expand(channels, 1, 3, 3), padding=1, groups=channels)[0]


def _relax(values: torch.Tensor, known: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
    """The membrane over `domain` (bool (h, w), `known` within it), solved coarse to fine:
    each scale starts from the next coarser one's answer, then relaxes."""
    height, width = known.shape
    inside = domain[None].float()
    # Each side is halved while it is longer than 3 px: a long thin domain (a stem's
    # hole) keeps coarsening along its length, where the relaxation alone would
    # carry its ends' values only a few dozen pixels in.
    step = (2 if height > 3 else 1, 2 if width > 3 else 1)
    if step != (1, 1) and not known.all():
        weight = F.avg_pool2d(known[None, None].float(), step, ceil_mode=True)[0]
        coarse_values = F.avg_pool2d((values * known)[None], step, ceil_mode=True)[0] / weight.clamp_min(1e-8)
        coarse_domain = F.max_pool2d(inside[None], step, ceil_mode=True)[0, 0] > 0
        coarse = _relax(coarse_values, weight[0] > 0, coarse_domain) * coarse_domain
        # Upsampled from the domain's pixels only: what lies outside it means nothing.
        share = F.interpolate(coarse_domain[None, None].float(), size=(height, width), mode="bilinear",
                              align_corners=False)[0]
        start = F.interpolate(coarse[None], size=(height, width), mode="bilinear",
                              align_corners=False)[0] / share.clamp_min(1e-8)
    else:
        start = ((values * known).sum((-2, -1), keepdim=True) / known.sum().clamp_min(1)).expand_as(values)
    current = torch.where(known[None], values, start) * inside
    neighbours = _neighbour_sum(inside)
    free = (domain & ~known & (neighbours[0] > 0))[None]
    for _ in range(MEMBRANE_SWEEPS):
        mean = _neighbour_sum(current * inside) / neighbours.clamp_min(1)
        current = torch.where(free, current + MEMBRANE_DAMPING * (mean - current), current)
    return current


def membrane_fill(image: torch.Tensor, known: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
    """`image` (C, H, W) with its pixels in `domain` (bool (H, W)) that are not `known`
    replaced by the membrane spanning the known ones: the smooth surface each of
    whose pixels is the mean of its neighbours (Laplace's equation; the domain's
    edge is free, the known pixels fixed). Pixels outside the domain are kept."""
    if not known.any():
        return image
    top, bottom, left, right = window(domain, 1)
    known_here, domain_here = known[top:bottom, left:right], domain[top:bottom, left:right]
    crop = image[:, top:bottom, left:right]
    solved = _relax(crop, known_here, domain_here | known_here)
    out = image.clone()
    out[:, top:bottom, left:right] = torch.where((domain_here & ~known_here)[None], solved, crop)
    return out
