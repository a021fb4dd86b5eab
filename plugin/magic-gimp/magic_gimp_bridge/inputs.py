"""The layer and both masks of one run, read out of the image and checked,
the same way for the dialog (before OK) and for the run itself."""

from __future__ import annotations

from dataclasses import dataclass

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from magic_gimp_core import messages  # noqa: E402
from magic_gimp_core.mask_sources import (ARGUMENT, OBJECT_CHANNEL, OBJECT_CHANNEL_NAME, SELECTION,  # noqa: E402
                                          TARGET_CHANNEL_NAME, describe_source, pick_mask_sources, same_pixels)
from magic_gimp_core.plan import MaskBoxes, check_masks  # noqa: E402

from . import pixels  # noqa: E402
from .results import result_group_of, source_layer_of  # noqa: E402


@dataclass
class EditInputs:
    layer: "Gimp.Layer"
    source_mask: bytes  # one byte per layer pixel, layer coordinates
    target_mask: bytes
    source_label: str  # "the selection", "the remembered object (channel 'MAGIC object')"...
    target_label: str
    boxes: MaskBoxes

    @property
    def width(self) -> int:
        return self.layer.get_width()

    @property
    def height(self) -> int:
        return self.layer.get_height()


def source_layer(image, drawables):
    """The one pixel layer MAGIC works on, or UserError saying what to select.
    A result of an earlier run (selected after that run) stands for the
    layer it was made from, so a rerun edits the photo, not the result."""
    if len(drawables) != 1:
        raise messages.UserError(f"MAGIC works on one layer at a time, and {len(drawables)} are selected. Select "
                                 f"only the layer that holds the object, then run MAGIC again.")
    layer = drawables[0]
    group = result_group_of(layer) if layer.is_layer() else None
    if group is not None:
        layer = source_layer_of(image, group)
        if layer is None:
            raise messages.UserError(f"'{drawables[0].get_name()}' is a MAGIC result, and the layer it was made from "
                                     f"is gone. Select the layer that holds the object, then run MAGIC again.")
    if not layer.is_layer() or isinstance(layer, Gimp.LayerMask):
        raise messages.UserError("MAGIC works on a layer; a channel or mask is selected. Select the layer that holds "
                                 "the object in the Layers dock, then run MAGIC again.")
    if layer.is_group():
        raise messages.UserError(f"'{layer.get_name()}' is a layer group. Select a pixel layer inside it (or merge "
                                 f"the group), then run MAGIC again.")
    if image.get_base_type() == Gimp.ImageBaseType.INDEXED:
        raise messages.UserError("MAGIC needs an RGB or grayscale image, and this one is indexed (it has a "
                                 "palette). Use Image → Mode → RGB, then run MAGIC again.")
    return layer


def _channels(image, source_argument, target_argument):
    """(source channel, its label, target channel, its label), picked by mask_sources' rules."""
    object_channel = image.get_channel_by_name(OBJECT_CHANNEL_NAME)
    target_channel = image.get_channel_by_name(TARGET_CHANNEL_NAME)
    picked = pick_mask_sources(source_argument is not None, target_argument is not None, object_channel is not None,
                               not Gimp.Selection.is_empty(image), target_channel is not None)
    by_kind = {ARGUMENT: None, OBJECT_CHANNEL: object_channel, SELECTION: image.get_selection()}
    source = source_argument if picked.source == ARGUMENT else by_kind[picked.source]
    target = {ARGUMENT: target_argument, SELECTION: image.get_selection()}.get(picked.target, target_channel)
    return (source, describe_source(picked.source, source.get_name()),
            target, describe_source(picked.target, target.get_name()))


def read_edit_inputs(image, drawables, source_argument=None, target_argument=None) -> EditInputs:
    """Raises UserError for anything the designer has to fix first."""
    layer = source_layer(image, drawables)
    source, source_label, target, target_label = _channels(image, source_argument, target_argument)
    source_bytes = pixels.read_mask_on_layer(source, image, layer)
    target_bytes = pixels.read_mask_on_layer(target, image, layer)
    boxes = check_masks(layer.get_name(), layer.get_width(), layer.get_height(), source_bytes, target_bytes,
                        source_label, target_label)
    if same_pixels(source_bytes, target_bytes):
        raise messages.UserError(f"The target ({target_label}) covers exactly the object ({source_label}), so there "
                                 f"is nothing to move or reshape. Move, scale or transform the selection to where "
                                 f"the object should go, then run MAGIC again.")
    return EditInputs(layer, source_bytes, target_bytes, source_label, target_label, boxes)
