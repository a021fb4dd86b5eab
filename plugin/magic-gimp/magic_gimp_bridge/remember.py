"""Filters → MAGIC → 1. Remember Object: the selection becomes the channel
'MAGIC object', shown on the canvas as a red overlay, and the selection
stays, so the designer can move, scale or warp it to the target with
GIMP's own tools before step 2."""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

from magic_gimp_core import messages  # noqa: E402
from magic_gimp_core.mask_sources import OBJECT_CHANNEL_NAME  # noqa: E402

OVERLAY_COLOR = "#e02828"
OVERLAY_OPACITY = 45.0  # percent: the photo stays readable under it


def show_overlay(channel, visible: bool = True) -> None:
    channel.set_color(Gegl.Color.new(OVERLAY_COLOR))
    channel.set_opacity(OVERLAY_OPACITY)
    channel.set_show_masked(False)  # the colour covers the object itself (True would veil the rest of the photo)
    channel.set_visible(visible)


def remember_object(image, drawables):
    """-> the new 'MAGIC object' channel (one undo step). The previously
    remembered object is replaced; the selected layers stay selected (GIMP
    would leave the new channel active, and MAGIC needs the layer)."""
    if Gimp.Selection.is_empty(image):
        raise messages.UserError("Nothing is selected. Select the object to move or reshape (any selection tool), "
                                 "then use Filters → MAGIC → Remember Object.")
    layers = [d for d in drawables if d.is_layer()] or image.get_selected_layers()  # before saving selects the channel
    image.undo_group_start()
    try:
        old = image.get_channel_by_name(OBJECT_CHANNEL_NAME)
        if old is not None:
            image.remove_channel(old)
        channel = Gimp.Selection.save(image)
        channel.set_name(OBJECT_CHANNEL_NAME)
        show_overlay(channel)
        if layers:
            image.set_selected_layers(layers)
    finally:
        image.undo_group_end()
    Gimp.displays_flush()
    return channel


def hide_object_overlay(image) -> None:
    """After a run the results should be seen, not a red veil; the channel
    stays, so the next run can use the same object."""
    channel = image.get_channel_by_name(OBJECT_CHANNEL_NAME)
    if channel is not None and channel.get_visible():
        channel.set_visible(False)
