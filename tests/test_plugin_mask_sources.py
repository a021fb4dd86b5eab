"""Where the object and the target come from (the two-step workflow and the
older channel route), the dialog's picture of both, and its texts."""

from __future__ import annotations

import numpy as np
import pytest

from magic_gimp_core import preflight, thumbnail
from magic_gimp_core.mask_sources import (ARGUMENT, OBJECT_CHANNEL, SELECTION, TARGET_CHANNEL, MaskSources,
                                          describe_source, pick_mask_sources, same_pixels)
from magic_gimp_core.messages import UserError


def pick(source_argument=False, target_argument=False, object_channel=False, selection=False, target_channel=False):
    return pick_mask_sources(source_argument, target_argument, object_channel, selection, target_channel)


def test_two_steps_remembered_object_and_the_current_selection_as_target():
    assert pick(object_channel=True, selection=True) == MaskSources(OBJECT_CHANNEL, SELECTION)
    # The selection wins over an old 'MAGIC target' channel once an object is remembered.
    assert pick(object_channel=True, selection=True, target_channel=True) == MaskSources(OBJECT_CHANNEL, SELECTION)
    # With the selection dropped, the channel route still gives a target.
    assert pick(object_channel=True, target_channel=True) == MaskSources(OBJECT_CHANNEL, TARGET_CHANNEL)


def test_the_older_channel_route_and_scripted_arguments_still_work():
    assert pick(selection=True, target_channel=True) == MaskSources(SELECTION, TARGET_CHANNEL)
    assert pick(source_argument=True, target_argument=True, object_channel=True, selection=True) == \
        MaskSources(ARGUMENT, ARGUMENT)
    assert pick(source_argument=True, selection=True) == MaskSources(ARGUMENT, SELECTION)
    assert pick(selection=True, target_argument=True) == MaskSources(SELECTION, ARGUMENT)


def test_a_missing_mask_says_what_to_do_next():
    with pytest.raises(UserError, match="Nothing is selected.*Remember Object"):
        pick()
    with pytest.raises(UserError, match="object is remembered.*move, scale or transform the selection"):
        pick(object_channel=True)
    with pytest.raises(UserError, match="There is no target.*Remember Object.*'MAGIC target'"):
        pick(selection=True)


def test_labels_and_an_unmoved_target():
    assert describe_source(SELECTION) == "the selection"
    assert describe_source(OBJECT_CHANNEL, "MAGIC object") == "the remembered object (channel 'MAGIC object')"
    assert describe_source(ARGUMENT, "cup") == "channel 'cup'"
    assert same_pixels(b"\x00\xff", bytearray(b"\x00\xff")) and not same_pixels(b"\x00\xff", b"\xff\x00")


def _masks(width, height):
    source = np.zeros((height, width), np.uint8)
    target = np.zeros((height, width), np.uint8)
    source[2:6, 2:6] = 255
    target[3:9, 8:14] = 200
    return source, target


@pytest.mark.parametrize("hide_numpy", [False, True])
def test_thumbnail_tints_the_object_and_outlines_the_target(monkeypatch, hide_numpy):
    width, height = 16, 12
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., :3] = 100
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0  # transparent: the grey backdrop
    source, target = _masks(width, height)
    if hide_numpy:
        monkeypatch.setattr(thumbnail, "numpy", None)
    out = np.frombuffer(thumbnail.overlay(rgba.tobytes(), width, height, source.tobytes(), target.tobytes()),
                        np.uint8).reshape(height, width, 3)
    assert tuple(out[0, 0]) == (128, 128, 128)
    assert tuple(out[10, 1]) == (100, 100, 100)  # outside both: the photo as it is
    red = out[3, 3].astype(int)
    assert red[0] > 150 and red[1] < 90  # the object, tinted red
    assert tuple(out[3, 10]) == thumbnail.TARGET_TINT  # the target's edge
    inner = out[5, 10].astype(int)
    assert inner[2] > 150 and inner[0] < 90 and tuple(inner) != thumbnail.TARGET_TINT  # tinted, not outlined
    with pytest.raises(ValueError, match="16x12"):
        thumbnail.overlay(rgba.tobytes()[:-1], width, height, source.tobytes(), target.tobytes())


def test_both_thumbnail_paths_agree():
    width, height = 23, 17
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    source, target = _masks(width, height)
    fast = thumbnail.overlay(rgba.tobytes(), width, height, source.tobytes(), target.tobytes())
    saved, thumbnail.numpy = thumbnail.numpy, None
    try:
        slow = thumbnail.overlay(rgba.tobytes(), width, height, source.tobytes(), target.tobytes())
    finally:
        thumbnail.numpy = saved
    difference = np.abs(np.frombuffer(fast, np.uint8).astype(int) - np.frombuffer(slow, np.uint8).astype(int))
    assert difference.max() <= 1  # rounding only


def test_thumbnail_size_keeps_the_aspect_and_never_enlarges():
    assert thumbnail.thumbnail_size(4000, 3000) == (200, 150)
    assert thumbnail.thumbnail_size(300, 1200) == (50, 200)
    assert thumbnail.thumbnail_size(80, 60) == (80, 60)


def test_downsampled_masks_keep_thin_strokes():
    mask = np.zeros((100, 100), np.uint8)
    mask[50, 10:90] = 255  # one pixel high: a plain stride would miss it
    small = np.frombuffer(thumbnail.downsample_mask(mask.tobytes(), 100, 100, 10, 10), np.uint8).reshape(10, 10)
    assert small[5, 1:9].min() == 255 and small[:5].max() == 0


def test_dialog_texts():
    from magic_common.masks import count_inside

    assert count_inside(bytes([0, 127, 128, 255])) == 2
    assert preflight.mask_line("Object", "the selection", 12345) == "Object: the selection, 12,345 px"
    assert "420×380 px of layer 'Photo'" in preflight.region_line(420, 380, "Photo")
    assert preflight.preset_label("preview", {"seconds": 55.2, "variants": 3}, False) == \
        "Preview (fewest steps): about 55 s, 3 results"
    assert preflight.preset_label("paper", {"seconds": None, "variants": 5}, True) == \
        "Paper (official schedule): measuring…, 5 results"
    assert preflight.preset_label("standard", None, False) == "Standard (5x the steps)"
    assert preflight.preset_label("paper", {"seconds": None, "basis": "failed", "variants": 5}, False) == \
        "Paper (official schedule): no estimate (measuring it failed), 5 results"
    regions = {"usual": (2464, 1577), "tight": (788, 608)}
    estimates = {"usual": {"estimates": {"preview": {"seconds": 400}, "standard": {"seconds": 90}}},
                 "tight": {"estimates": {"preview": {"seconds": 70}, "standard": {"seconds": 30}}}}
    assert preflight.area_hint("usual", "preview", estimates, regions) == (
        "This takes a while. The tight area (788×608 px) would take about 1 min 10 s, with less of the photo "
        "around the edit to fill the hole from.")
    assert preflight.area_hint("usual", "standard", estimates, regions) == ""  # not long
    assert preflight.area_hint("tight", "preview", estimates, regions) == ""  # already chosen
    assert preflight.area_hint("usual", "preview", estimates, dict(regions, tight=(2464, 1577))) == ""  # no smaller
    assert preflight.area_hint("usual", "paper", estimates, regions) == ""  # not measured
    hello = {"devices": [{"name": "cpu", "description": "CPU (2 threads)"}], "queue": {"queued": 1, "running": 1}}
    assert preflight.server_line("running", hello) == "Server: running on CPU (2 threads); 2 job(s) ahead of this one."
    assert "starting it now" in preflight.server_line("starting")
    assert preflight.server_line("failed", detail="cannot be reached") == "Server: cannot be reached"
