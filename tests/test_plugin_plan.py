"""Checking the masks and planning the crop, before anything is sent."""

from __future__ import annotations

import numpy as np
import pytest

from magic_gimp_core.messages import UserError
from magic_gimp_core.plan import check_masks, plan_crop
from magic_common.region import Box


def masks(width, height, source=None, target=None):
    out = []
    for box in (source, target):
        mask = np.zeros((height, width), np.uint8)
        if box:
            mask[box[1]:box[3], box[0]:box[2]] = 255
        out.append(mask.tobytes())
    return out


def test_plan_crops_the_masks_to_the_context_region():
    width, height = 200, 150
    source, target = masks(width, height, (40, 30, 60, 50), (90, 60, 106, 76))
    boxes = check_masks("Photo", width, height, source, target, "the selection", "channel 'MAGIC target'")
    assert (boxes.source, boxes.target) == (Box(40, 30, 60, 50), Box(90, 60, 106, 76))
    plan = plan_crop("Photo", width, height, source, target, boxes, 0.25, 16, 16)
    assert plan.crop == Box(23, 13, 123, 93)  # margin max(16, ceil(0.25 * 66)) = 17
    full = np.frombuffer(source, np.uint8).reshape(height, width)
    assert plan.source_mask == full[13:93, 23:123].tobytes()
    assert len(plan.target_mask) == 100 * 80


def test_empty_masks_say_which_one_and_what_to_do():
    source, target = masks(64, 64, None, (1, 1, 5, 5))
    with pytest.raises(UserError, match=r"source mask \(the selection\) is empty on layer 'Photo'"):
        check_masks("Photo", 64, 64, source, target, "the selection", "channel 'MAGIC target'")
    source, target = masks(64, 64, (1, 1, 5, 5), None)
    with pytest.raises(UserError, match=r"target mask \(channel 'x'\) is empty.*MAGIC target"):
        check_masks("Photo", 64, 64, source, target, "the selection", "channel 'x'")


def test_a_crop_the_server_would_refuse_is_reported_before_sending():
    source, target = masks(40, 12, (2, 2, 4, 4), (30, 5, 32, 8))
    boxes = check_masks("Strip", 40, 12, source, target, "a", "b")
    with pytest.raises(UserError, match=r"only 40x12 px .* at least 16 px"):
        plan_crop("Strip", 40, 12, source, target, boxes, 0.25, 16, 16)
    assert plan_crop("Strip", 40, 12, source, target, boxes, 0.25, 16, 12).crop.height == 12  # a laxer server
