"""A layer's transparency through an edit.

A cut-out object on a transparent layer, moved: the place it leaves becomes
what the layer held around it (transparent on a cut-out), the object keeps
its own alpha at its new place, laid over whatever the layer held there, and
every other pixel keeps its alpha. Opaque photos never come here.
"""

from __future__ import annotations

import torch

from .smooth import membrane_fill
from .warp import variant_spread, warp_into_target


def alpha_behind(alpha: torch.Tensor, vacated: torch.Tensor) -> torch.Tensor:
    """(h, w) the layer's alpha without the object: over the `vacated` pixels (the
    object and the hole it leaves), what the layer holds right around them (a
    membrane: an opaque layer stays exactly opaque, whatever lies farther away)."""
    return membrane_fill(alpha[None], ~vacated, vacated)[0]


def keep_transparency(results: torch.Tensor, backgrounds: torch.Tensor, alpha: torch.Tensor, source: torch.Tensor,
                      target: torch.Tensor, vacated: torch.Tensor) -> tuple:
    """-> ((B, 3, h, w) colours, (B, h, w) alpha in [0, 1]) of the (B, 3, h, w) `results`
    on a layer whose region has `alpha` (h, w) in [0, 1]: the object's own alpha
    moved into the `target` as each variant moved its pixels (warp.variant_spread),
    laid over what the layer holds there without the object (`backgrounds`, (B, 3,
    h, w): the photo, its old footprint filled; "over" compositing); the `vacated`
    pixels (bool: the source and the band around it, less the target) take the
    layer's alpha from around them."""
    behind = alpha_behind(alpha, vacated | source)
    colours, alphas = [], []
    for variant, result in enumerate(results):
        carried = warp_into_target(alpha[None], source, target, variant_spread(variant))[0]
        carried = torch.where(target, carried, torch.zeros_like(carried))
        under = behind * (1 - carried)
        total = carried + under
        mixed = (result * carried + backgrounds[variant] * under) / total.clamp_min(1e-6)
        colours.append(torch.where(target[None] & (total > 0)[None], mixed, result))
        alphas.append(torch.where(target, total, behind))
    return torch.stack(colours), torch.stack(alphas)
