"""What to send: the crop of the layer around both masks, checked for the
problems a user can fix before anything goes to the server."""

from __future__ import annotations

from dataclasses import dataclass

from magic_common.masks import mask_box
from magic_common.region import Box, context_region, crop_bytes

from .mask_sources import TARGET_CHANNEL_NAME
from .messages import UserError


@dataclass
class MaskBoxes:
    source: Box  # layer coordinates
    target: Box


@dataclass
class CropPlan:
    crop: Box  # layer coordinates; the results go at layer offset + (crop.left, crop.top)
    source_mask: bytes  # cropped, one byte per pixel
    target_mask: bytes


def check_masks(layer_name: str, width: int, height: int, source_mask, target_mask,
                source_label: str, target_label: str) -> MaskBoxes:
    """Masks are width x height u8 in the layer's coordinates. Labels name
    the masks in messages ("the selection", "channel 'MAGIC target'")."""
    source_box = mask_box(source_mask, width, height)
    if source_box is None:
        raise UserError(f"The source mask ({source_label}) is empty on layer '{layer_name}'. Select the object to "
                        f"use on that layer (pixels selected at least 50 % count), then run MAGIC again.")
    target_box = mask_box(target_mask, width, height)
    if target_box is None:
        raise UserError(f"The target mask ({target_label}) is empty on layer '{layer_name}'. Select where the "
                        f"result should go (after Filters → MAGIC → Remember Object, move or transform the "
                        f"selection there), or save it as a channel named '{TARGET_CHANNEL_NAME}', then run MAGIC "
                        f"again.")
    return MaskBoxes(source_box, target_box)


def plan_crop(layer_name: str, width: int, height: int, source_mask, target_mask, boxes: MaskBoxes,
              context_margin: float, min_context: int, min_side: int) -> CropPlan:
    crop = context_region(boxes.source, boxes.target, width, height, context_margin, min_context)
    if crop.width < min_side or crop.height < min_side:
        raise UserError(f"The area MAGIC would work on is only {crop.width}x{crop.height} px (layer '{layer_name}' "
                        f"is {width}x{height} px); it needs at least {min_side} px on each side. Use a larger "
                        f"layer.")
    return CropPlan(crop, crop_bytes(source_mask, width, 1, crop), crop_bytes(target_mask, width, 1, crop))
