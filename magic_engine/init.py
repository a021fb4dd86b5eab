"""Starting images x'0 for the optimisation.

"noise"  N(0, init_std) in normalised space: the official start. Most diverse,
         but it needs the long schedule to turn noise into a photo.
"copy"   the input with the object cut out of the source mask's box, scaled
         into the target mask's box, and the hole left behind filled smoothly
         from its surroundings; plus N(0, init_std) so variants differ. The
         short presets start here: the objective is the same, it just starts
         close to an answer.
"input"  the input itself plus N(0, init_std).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .region import mask_box


def fill_holes(image: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Push-pull fill: unknown pixels of `image` (1, C, h, w) get a smooth blend
    of the known ones around them (`known`: (1, 1, h, w) in {0, 1})."""
    if known.all() or not known.any():
        return image
    values, weights = image * known, known
    pyramid = []
    while weights.shape[-1] > 1 and weights.shape[-2] > 1 and not (weights > 0).all():
        pyramid.append((values, weights))
        values = F.avg_pool2d(values, 2, ceil_mode=True)
        weights = F.avg_pool2d(weights, 2, ceil_mode=True)
    filled = values / weights.clamp_min(1e-8)
    if not (weights > 0).all():  # 1-pixel-wide level still has holes: use the mean
        mean = (values.sum((-2, -1), keepdim=True) / weights.sum((-2, -1), keepdim=True).clamp_min(1e-8))
        filled = torch.where(weights > 0, filled, mean)
    for values, weights in reversed(pyramid):
        coarse = F.interpolate(filled, size=values.shape[-2:], mode="bilinear", align_corners=False)
        own = values / weights.clamp_min(1e-8)
        blend = weights.clamp(0, 1)
        filled = own * blend + coarse * (1 - blend)
    return image * known + filled * (1 - known)


def copy_move(image: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The copy-paste starting image: object moved/scaled box to box, hole filled.

    image: (1, 3, h, w); source, target: (1, 1, h, w) in {0, 1}.
    """
    src, tgt = source[0, 0] > 0.5, target[0, 0] > 0.5
    # Fill from pixels a little away from the object: its rim (glow, blur,
    # loose mask edges) would otherwise smear its colours into the hole.
    rim = max(2, round(0.015 * (image.shape[-1] ** 2 + image.shape[-2] ** 2) ** 0.5))
    grown = F.max_pool2d(source.float(), 2 * rim + 1, stride=1, padding=rim)
    background = fill_holes(image, 1.0 - grown)
    s_left, s_top, s_right, s_bottom = mask_box(src.numpy())
    t_left, t_top, t_right, t_bottom = mask_box(tgt.numpy())
    patch = image[:, :, s_top:s_bottom, s_left:s_right]
    patch = F.interpolate(patch, size=(t_bottom - t_top, t_right - t_left), mode="bilinear", align_corners=False)
    out = background.clone()
    region = out[:, :, t_top:t_bottom, t_left:t_right]
    inside = tgt[t_top:t_bottom, t_left:t_right][None, None]
    out[:, :, t_top:t_bottom, t_left:t_right] = torch.where(inside, patch, region)
    return out


def starting_images(kind: str, reference: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                    variants: int, std: float, generator: torch.Generator) -> torch.Tensor:
    """(variants, 3, h, w) starting batch on the CPU; reference is normalised."""
    reference, source, target = reference.cpu().float(), source.cpu(), target.cpu()
    noise = torch.randn((variants,) + tuple(reference.shape[1:]), generator=generator) * std
    if kind == "noise":
        return noise
    base = copy_move(reference, source, target) if kind == "copy" else reference
    return base + noise
