"""Texture growth from a hole's edge inward (Efros and Leung's non-parametric sampling).

The hole is filled one ring of pixels at a time, from its edge inward. Each
pixel in the ring takes the centre of a photo patch that looks like what is
already known around that pixel (its known neighbours, the nearest weighing
most). So the structures that run into the hole (a horizon, a rock's edge,
a band of cloud) carry on across it, and its colours are the photo's own,
never a blend. The pixel copies one patch picked at random among those
nearly as good as the best (within TOLERANCE), as Efros and Leung do.

Pixels in one ring are filled together (one matrix product per ring), so
this is meant for small images: the coarsest scale of a fill, where a hole
is tens of pixels across.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .masks import dilate
from .patches import PATCH_SIZE, RADIUS, gather_patches, valid_centres

TOLERANCE = 0.1  # a key within this fraction of the best distance is as good
# ... plus this much in absolute terms (squared 0..1 units, about 2/255 per
# channel), so a smooth area's equally good patches are all candidates.
TOLERANCE_FLOOR = (2 / 255) ** 2
_SIGMA = PATCH_SIZE / 6.4  # Efros and Leung's Gaussian over the window


def _window_weights(device) -> torch.Tensor:
    offsets = torch.arange(-RADIUS, RADIUS + 1, device=device, dtype=torch.float32)
    g = torch.exp(-(offsets[:, None] ** 2 + offsets[None] ** 2) / (2 * _SIGMA ** 2))
    return g.flatten()


def _windows(image: torch.Tensor) -> torch.Tensor:
    """(H*W, C, P*P): every pixel's window, zero beyond the border."""
    channels = image.shape[0]
    columns = F.unfold(image[None], PATCH_SIZE, padding=RADIUS)[0]  # (C*P*P, H*W)
    return columns.T.reshape(-1, channels, PATCH_SIZE * PATCH_SIZE)


def grow_into_hole(photo: torch.Tensor, context: torch.Tensor, hole: torch.Tensor, keys: torch.Tensor,
                   generator: torch.Generator, tolerance: float = TOLERANCE) -> torch.Tensor:
    """(3, H, W) `context` with its `hole` pixels grown from the hole's edge inward.

    photo: (3, H, W) whose patches are copied, centred on `keys` (bool (H, W);
    only patches that fit inside the image count); context: the image around
    the hole (what is known). The random picks come from `generator`.
    """
    height, width = hole.shape
    device = photo.device
    if not hole.any():
        return context.clone()
    if hole.all():
        raise ValueError("the hole covers the whole image: nothing to grow from")
    allowed = (keys & valid_centres(height, width, device)).flatten()
    if not allowed.any():
        raise ValueError("no key patch to grow the hole from")
    key_index = torch.nonzero(allowed)[:, 0]
    key_patches = gather_patches(photo, key_index)  # (k, 3*P*P), same layout as _windows
    key_centres = photo.flatten(1)[:, key_index]  # (3, k)
    key_squares = key_patches * key_patches
    weights = _window_weights(device)
    image = torch.where(hole[None], torch.zeros_like(context), context)
    known = ~hole
    while not known.all():
        ring = dilate(known, 1) & ~known
        at = torch.nonzero(ring.flatten())[:, 0]
        values = _windows(image)[at].flatten(1)  # (n, 3*P*P)
        seen = _windows(known[None].float())[at, 0] * weights  # (n, P*P): known neighbours, nearest heaviest
        mask = seen.repeat(1, 3)  # the same weight for the three channels
        # sum over the window of mask * (value - key)^2, for every key at once
        distances = ((mask * values * values).sum(1, keepdim=True) - 2 * (mask * values) @ key_patches.T
                     + mask @ key_squares.T) / (3 * seen.sum(1, keepdim=True))
        best = distances.min(1, keepdim=True).values.clamp_min(0)
        good = distances <= best * (1 + tolerance) + TOLERANCE_FLOOR
        pick = torch.rand(good.shape, generator=generator).to(device) * good  # a random good key
        flat = image.flatten(1)
        flat[:, at] = key_centres[:, pick.argmax(1)]
        image = flat.reshape(image.shape)
        known = known | ring
    return image
