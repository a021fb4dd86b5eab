"""Mask scans (magic_common.masks, used by the plug-in and the command-line client), with and
without numpy, and the plug-in's mask helpers."""

from __future__ import annotations

import numpy as np
import pytest

from magic_common import masks
from magic_common.region import Box
from magic_engine.region import mask_box as engine_mask_box
from magic_gimp_core import masks as plugin_masks


@pytest.fixture(params=["numpy", "pure-python"])
def mask_module(request, monkeypatch):
    if request.param == "pure-python":
        monkeypatch.setattr(masks, "numpy", None)  # GIMP's Python may have no numpy
    return masks


def test_mask_box_uses_the_engines_threshold(mask_module):
    width, height = 30, 20
    mask = np.zeros((height, width), np.uint8)
    mask[4:9, 6:12] = 255
    mask[15, 25] = 128  # counts: >= 128 is inside
    mask[1, 1] = 127  # does not
    box = mask_module.mask_box(mask.tobytes(), width, height)
    assert box == Box(*engine_mask_box(mask >= 128)) == Box(6, 4, 26, 16)


def test_mask_box_of_an_empty_or_faint_mask_is_none(mask_module):
    assert mask_module.mask_box(bytes(12), 4, 3) is None
    assert mask_module.mask_box(bytes([127]) * 12, 4, 3) is None


@pytest.mark.parametrize("seed", range(10))
def test_pure_python_and_numpy_agree_on_random_masks(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    mask = (rng.random((height, width)) < 0.001).astype(np.uint8) * rng.integers(0, 256, (height, width))
    data = mask.astype(np.uint8).tobytes()
    with_numpy = masks.mask_box(data, width, height)
    monkeypatch.setattr(masks, "numpy", None)
    assert masks.mask_box(data, width, height) == with_numpy


def test_mask_box_rejects_a_buffer_of_the_wrong_size():
    with pytest.raises(ValueError, match="expected 4x3"):
        masks.mask_box(bytes(11), 4, 3)


@pytest.mark.parametrize("encoding, precision, expected", [
    ("Y' u8", None, "Y' u8"),       # channels of 8-bit non-linear images (saved selections)
    ("Y u8", None, "Y u8"),         # the selection, linear 8-bit images
    ("Y u16", None, "Y u8"),        # 16-bit linear: scaled, no curve
    ("Y' u16", None, "Y' u8"),
    ("Y float", None, "Y u8"),
    ("Y~ u8", None, "Y~ u8"),       # a perceptual encoding, should GIMP ever store one
    (None, "GIMP_PRECISION_U8_NON_LINEAR", "Y' u8"),  # no Babl typelib: the precision decides
    (None, "GIMP_PRECISION_U16_LINEAR", "Y u8"),
    (None, "GIMP_PRECISION_U8_PERCEPTUAL", "Y u8"),  # GIMP 3.0.4 stores these channels as "Y u8"
    (None, None, "Y u8"),
])
def test_masks_are_read_with_their_stored_curve(encoding, precision, expected):
    assert plugin_masks.mask_read_format(encoding, precision) == expected


def test_binary_layer_mask_covers_every_changed_pixel():
    edit = bytes([0, 1, 127, 128, 254, 255])
    assert plugin_masks.binary_layer_mask(edit) == bytes([0, 255, 255, 255, 255, 255])
