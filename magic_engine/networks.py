"""The two small networks MAGIC trains on the fly, shaped as in the official code.

MaskPredictor: a fully convolutional image -> mask-logit network with a 13 px
receptive field, trained on (input, source mask) and then applied to the
synthesised images against the target mask. Three unpadded 3x3 convs shrink
the map by 6 px, three 3x3 transposed convs grow it back, so the output has
the input's size. Every layer, the 1-channel output included, has BatchNorm
(batch statistics, always) and LeakyReLU(0.2): that is the official design.

PatchCritic: the WGAN critic, four unpadded convs (4x4 s1, 4x4 s2, 4x4 s2,
3x3 s1) with BatchNorm and LeakyReLU, then a 1x1 conv to one score per
patch. Receptive field 21x21 px; a 51x51 score map at 224 px.
"""

from __future__ import annotations

from torch import nn


def _block(conv: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(channels), nn.LeakyReLU(0.2))


def init_weights(module: nn.Module) -> None:
    """Official init: Conv2d ~ N(0, 0.02), BatchNorm weight ~ N(1, 0.02), bias 0.
    ConvTranspose2d keeps PyTorch's default init (the official code misses it)."""
    for m in module.modules():
        if type(m) is nn.Conv2d:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class MaskPredictor(nn.Sequential):
    receptive_field = 13

    def __init__(self, width: int = 64):
        w = width
        super().__init__(
            _block(nn.Conv2d(3, w, 3), w),
            _block(nn.Conv2d(w, w, 3), w),
            _block(nn.Conv2d(w, w, 3), w),
            _block(nn.ConvTranspose2d(w, w, 3), w),
            _block(nn.ConvTranspose2d(w, w, 3), w),
            _block(nn.ConvTranspose2d(w, 1, 3), 1),
        )
        init_weights(self)


class PatchCritic(nn.Sequential):
    receptive_field = 21

    def __init__(self, width: int = 32):
        w = width
        super().__init__(
            _block(nn.Conv2d(3, 2 * w, 4, 1), 2 * w),
            _block(nn.Conv2d(2 * w, 4 * w, 4, 2), 4 * w),
            _block(nn.Conv2d(4 * w, 4 * w, 4, 2), 4 * w),
            _block(nn.Conv2d(4 * w, 4 * w, 3, 1), 4 * w),
            nn.Conv2d(4 * w, 1, 1),
        )
        init_weights(self)
