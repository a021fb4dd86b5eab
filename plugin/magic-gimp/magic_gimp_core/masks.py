"""Masks as one byte per pixel: how to read them from GIMP without changing
their values, where they are, and the layer mask derived from the server's
edit mask.

Where a mask's inside pixels are (its box) and how many there are is
magic_common.masks, shared with the command-line client.
"""

from __future__ import annotations

from typing import Optional

# bytes -> 0/255 (binary mask) lookup table
_ANY_TO_255 = bytes(255 if v > 0 else 0 for v in range(256))


def mask_read_format(encoding: Optional[str], precision_name: Optional[str] = None) -> str:
    """The babl format to read a channel in so its values come back as stored.

    Channels of 8-bit non-linear images are stored as "Y' u8"; reading them
    as "Y u8" would run the values through the sRGB curve (a painted 188
    reads as 128). So read with the same curve (Y' non-linear, Y~
    perceptual, Y linear) as the stored encoding, at u8 (u16 and float scale
    to u8 without a curve change). `encoding` is babl's name for the
    channel's format ("Y' u8", "Y u16", "Y float"...); without it the image
    precision decides: GIMP 3.0.4 stores channels of non-linear precisions
    as Y' and all others, perceptual ones included, as Y. """
    if encoding:
        model = encoding.split()[0]
        return f"{model} u8" if model in ("Y'", "Y~") else "Y u8"
    if precision_name and precision_name.upper().endswith("NON_LINEAR"):
        return "Y' u8"
    return "Y u8"


def binary_layer_mask(edit_mask) -> bytes:
    """255 wherever the server changed pixels (edit mask > 0), else 0.

    The result layers already hold the engine's blend (its soft edge
    included), so a binary layer mask shows exactly that blend and leaves
    every pixel outside the edited area to the layers below, unchanged."""
    return bytes(edit_mask).translate(_ANY_TO_255)
