"""Reading layer pixels and masks out of GIMP as plain bytes.

Layer buffers use layer coordinates; channel buffers (the selection
included) cover the whole image in image coordinates, so a mask is read
over the layer's rectangle, shifted by the layer offsets. Outside the
image a read gives zeros (AbyssPolicy.NONE), i.e. "not in the mask".
"""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl  # noqa: E402

from magic_gimp_core.masks import mask_read_format  # noqa: E402
from magic_common.region import Box  # noqa: E402

RGBA_U8 = "R'G'B'A u8"  # what the engine takes; babl converts grey, 16-bit and float layers


def layer_offsets(layer) -> tuple:
    _, x, y = layer.get_offsets()
    return x, y


def read_rgba(layer, box: Box) -> bytes:
    """RGBA u8 of `box` (layer coordinates); layers without alpha read A=255."""
    rect = Gegl.Rectangle.new(box.left, box.top, box.width, box.height)
    return bytes(layer.get_buffer().get(rect, 1.0, RGBA_U8, Gegl.AbyssPolicy.NONE))


def _stored_encoding(channel) -> str | None:
    try:
        gi.require_version("Babl", "0.1")
        from gi.repository import Babl

        return Babl.format_get_encoding(channel.get_format())
    except (ImportError, ValueError, TypeError, AttributeError):
        return None  # no Babl typelib: fall back to the image precision


def read_mask_on_layer(channel, image, layer) -> bytes:
    """The channel's values over the layer's rectangle, one u8 per layer pixel,
    read with the channel's own curve so painted values are kept."""
    x, y = layer_offsets(layer)
    width, height = layer.get_width(), layer.get_height()
    fmt = mask_read_format(_stored_encoding(channel), image.get_precision().value_name)
    rect = Gegl.Rectangle.new(x, y, width, height)
    return bytes(channel.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.NONE))


def write_rgba(layer, box: Box, data: bytes) -> None:
    """RGBA u8 `data` into `box` (layer coordinates)."""
    buffer = layer.get_buffer()
    buffer.set(Gegl.Rectangle.new(box.left, box.top, box.width, box.height), RGBA_U8, data)
    buffer.flush()


def write_mask(mask, width: int, height: int, data: bytes) -> None:
    """data holds only 0 and 255, which every encoding stores the same way."""
    buffer = mask.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), "Y u8", data)
    buffer.flush()
