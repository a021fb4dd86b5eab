"""Per-pixel colour and texture features for the mask-adherence classifier.

Every pixel gets its CIE Lab colour and gradient strength, plus, at three
neighbourhood sizes, the local mean colour, the local spread of lightness and
the local mean gradient. That is enough to tell an object from its background
by colour and by texture (a lattice tower against a smooth sky), and nothing
in it comes from the engine's networks.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

NEIGHBOURHOODS = (5, 11, 23)  # box sizes in pixels for a region 256 px on its long side
REFERENCE_SIDE = 256

# sRGB (D65) -> CIE XYZ, and the D65 white point.
_RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375],
                            [0.2126729, 0.7151522, 0.0721750],
                            [0.0193339, 0.1191920, 0.9503041]])
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(3, H, W) sRGB in [0, 1] -> (3, H, W) Lab, L in [0, 100], a/b roughly [-110, 110]."""
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,jhw->ihw", _RGB_TO_XYZ, linear) / _WHITE.view(3, 1, 1)
    epsilon, kappa = 216 / 24389, 24389 / 27
    f = torch.where(xyz > epsilon, xyz.clamp_min(1e-12) ** (1 / 3), (kappa * xyz + 16) / 116)
    lightness = 116 * f[1] - 16
    a = 500 * (f[0] - f[1])
    b = 200 * (f[1] - f[2])
    return torch.stack([lightness, a, b])


def _box_mean(maps: torch.Tensor, size: int) -> torch.Tensor:
    """Local mean over a size x size box, edges replicated. maps: (C, H, W)."""
    pad = size // 2
    padded = F.pad(maps[None], (pad, pad, pad, pad), mode="replicate")
    rows = F.avg_pool2d(padded, (1, size), stride=1)  # separable: two passes, not size^2 per pixel
    return F.avg_pool2d(rows, (size, 1), stride=1)[0]


def neighbourhoods(long_side: int) -> tuple:
    """Box sizes for an image whose long side is `long_side` px: the same share of the picture."""
    scale = max(1.0, long_side / REFERENCE_SIDE)
    return tuple(int(round(size * scale)) // 2 * 2 + 1 for size in NEIGHBOURHOODS)


def _gradient_magnitude(lightness: torch.Tensor) -> torch.Tensor:
    """Sobel gradient strength of an (H, W) map."""
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
    kernels = torch.stack([sobel, sobel.T])[:, None]
    padded = F.pad(lightness[None, None], (1, 1, 1, 1), mode="replicate")
    gx, gy = F.conv2d(padded, kernels)[0]
    return torch.sqrt(gx * gx + gy * gy)


def pixel_features(rgb: np.ndarray, sizes: tuple = NEIGHBOURHOODS) -> torch.Tensor:
    """uint8 (H, W, 3) -> float32 (H*W, 19) feature rows, one per pixel (row-major).
    sizes: the neighbourhood box sizes (see `neighbourhoods`)."""
    pixels = torch.from_numpy(np.array(rgb[..., :3], np.uint8)).permute(2, 0, 1).float() / 255
    lab = rgb_to_lab(pixels) / 100  # roughly unit scale
    gradient = _gradient_magnitude(lab[0])
    maps = [lab, gradient[None]]
    for size in sizes:
        mean = _box_mean(torch.cat([lab, lab[:1] ** 2, gradient[None]]), size)
        lab_mean, lightness_sq, gradient_mean = mean[:3], mean[3], mean[4]
        lightness_std = torch.sqrt((lightness_sq - lab_mean[0] ** 2).clamp_min(0))
        maps += [lab_mean, lightness_std[None], gradient_mean[None]]
    stacked = torch.cat(maps)  # (C, H, W)
    return stacked.flatten(1).T.contiguous()


FEATURE_COUNT = 3 + 1 + 5 * len(NEIGHBOURHOODS)
