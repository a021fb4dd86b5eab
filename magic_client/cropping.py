"""Sending only what the engine reads: the part of a whole photo MAGIC works on and
fills holes from, cut out, and the results put back into it.

The engine works on both masks' box grown by the server's context margin, reads
the photo up to `fill_reach` times that region's size beyond it to fill the hole
(both announced in `hello`, magic_common.region) and leaves every other pixel as
it is. So that crop gives the same results as the whole photo, and on a 24 MP
photo with a 1 MP edit a job moves a fraction of the bytes. The crop's place
travels with the job (`placement`), so results fetched later can still be put back.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from magic_common.masks import mask_box
from magic_common.region import (Box, context_region, crop_bytes, fill_reach_from_hello, paste_bytes,
                                 region_rule_from_hello, widened)

from .errors import MagicClientError


def crop_to_region(width: int, height: int, image_rgba, source_mask, target_mask,
                   hello: dict) -> Tuple[tuple, Optional[dict]]:
    """-> ((crop width, crop height, image, source mask, target mask), placement), the
    inputs cut to what the server's engine reads; the inputs as they are and None when
    that is the whole photo, or when a mask is empty or the area is smaller than the
    server accepts (the server then says what is wrong)."""
    inputs = (width, height, image_rgba, source_mask, target_mask)
    margin, min_context, min_side = region_rule_from_hello(hello)
    source, target = mask_box(source_mask, width, height), mask_box(target_mask, width, height)
    if source is None or target is None:
        return inputs, None
    region = context_region(source, target, width, height, margin, min_context)
    box = widened(region, fill_reach_from_hello(hello), width, height)
    if box == Box(0, 0, width, height) or min(region.width, region.height) < min_side:
        return inputs, None
    cropped = (box.width, box.height, crop_bytes(image_rgba, width, 4, box), crop_bytes(source_mask, width, 1, box),
               crop_bytes(target_mask, width, 1, box))
    return cropped, {"left": box.left, "top": box.top, "width": width, "height": height}


def into_photo(result, photo_rgba):
    """A JobResult of a cropped job (`result.placement`) as whole-photo layers: each
    result put back into `photo_rgba` (the whole photo, RGBA), the edit mask into an
    empty one. A result without placement is returned as it is."""
    placement = result.placement
    if not placement:
        return result
    width, height = placement["width"], placement["height"]
    if len(photo_rgba) != width * height * 4:
        raise MagicClientError(f"job {result.job_id} was cut from a {width}x{height} photo; the photo given is not "
                               f"that size")
    box = Box(placement["left"], placement["top"], placement["left"] + result.width,
              placement["top"] + result.height)
    layers = []
    for layer in result.layers:
        whole = bytearray(photo_rgba)
        paste_bytes(whole, width, 4, box, layer)
        layers.append(bytes(whole))
    edit_mask = bytearray(width * height)
    paste_bytes(edit_mask, width, 1, box, result.edit_mask)
    return dataclasses.replace(result, width=width, height=height, layers=layers, edit_mask=bytes(edit_mask),
                               placement=None)
