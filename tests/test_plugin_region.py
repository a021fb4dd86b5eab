"""Crop arithmetic (magic_common.region, used by the plug-in and the command-line client), checked
against the engine's own region rule."""

from __future__ import annotations

import numpy as np
import pytest

from magic_client import protocol
from magic_engine import make_config
from magic_engine.region import choose_region
from magic_common.region import Box, context_region, crop_bytes, paste_bytes, region_rule_from_hello


def _mask(width, height, box):
    mask = np.zeros((height, width), bool)
    mask[box.top:box.bottom, box.left:box.right] = True
    return mask


@pytest.mark.parametrize("seed", range(40))
def test_context_region_matches_the_engine_region_for_random_masks(seed):
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(40, 400)), int(rng.integers(40, 400))

    def random_box():
        left, top = int(rng.integers(0, width - 2)), int(rng.integers(0, height - 2))
        return Box(left, top, int(rng.integers(left + 1, width + 1)), int(rng.integers(top + 1, height + 1)))

    source, target = random_box(), random_box()
    cfg = make_config("preview")
    engine = choose_region(_mask(width, height, source), _mask(width, height, target),
                           cfg.context_margin, cfg.min_context)
    ours = context_region(source, target, width, height, cfg.context_margin, cfg.min_context)
    assert ours == Box(engine.left, engine.top, engine.right, engine.bottom)


def test_region_rule_defaults_match_the_engine_and_follow_hello():
    cfg = make_config()
    assert region_rule_from_hello({}) == (cfg.context_margin, cfg.min_context, protocol.MIN_IMAGE_SIDE)
    hello = {"region_rule": {"context_margin": 0.5, "min_context": 4}, "limits": {"min_side": 8}}
    assert region_rule_from_hello(hello) == (0.5, 4, 8)


def test_context_region_is_clamped_to_the_layer():
    box = context_region(Box(0, 0, 10, 10), Box(5, 5, 20, 20), 22, 21, 0.25, 16)
    assert box == Box(0, 0, 22, 21)


def test_margin_grows_with_the_long_side():
    # union 100x20 at (200,200): margin ceil(0.25 * 100) = 25 > 16
    box = context_region(Box(200, 200, 250, 220), Box(250, 200, 300, 220), 1000, 1000, 0.25, 16)
    assert box == Box(175, 175, 325, 245)


def test_crop_bytes_takes_rows_and_columns_of_a_multichannel_buffer():
    width, height, channels = 7, 5, 4
    data = bytes((y * width + x) % 256 for y in range(height) for x in range(width) for _ in range(channels))
    box = Box(2, 1, 5, 4)
    expected = np.frombuffer(data, np.uint8).reshape(height, width, channels)[1:4, 2:5].tobytes()
    assert crop_bytes(data, width, channels, box) == expected
    assert crop_bytes(data, width, channels, Box(0, 1, width, 3)) == data[width * channels:3 * width * channels]


def test_paste_bytes_puts_a_crop_back_where_it_came_from():
    width, height, channels = 7, 5, 4
    photo = bytearray(np.arange(width * height * channels, dtype=np.uint8).tobytes())
    box = Box(2, 1, 5, 4)
    edited = bytes(255 - v for v in crop_bytes(photo, width, channels, box))
    whole = bytearray(photo)
    paste_bytes(whole, width, channels, box, edited)
    expected = np.frombuffer(photo, np.uint8).reshape(height, width, channels).copy()
    expected[1:4, 2:5] = 255 - expected[1:4, 2:5]
    assert bytes(whole) == expected.tobytes()


def test_box_helpers():
    a, b = Box(0, 0, 10, 10), Box(5, 5, 20, 20)
    assert a.union(b) == Box(0, 0, 20, 20)
    assert (b.width, b.height) == (15, 15)


def test_a_tight_area_sends_less_of_a_large_photo_and_still_the_whole_edit():
    from magic_gimp_core.choices import area_rule

    rule = (0.25, 16, 16)
    source, target = Box(900, 500, 1500, 1000), Box(1000, 480, 1600, 980)  # an edit 700 px across
    usual = context_region(source, target, 2464, 1577, *area_rule(rule, "usual")[:2])
    tight = context_region(source, target, 2464, 1577, *area_rule(rule, "tight")[:2])
    assert usual == Box(725, 305, 1775, 1175)  # 175 px around the edit
    assert tight == Box(856, 436, 1644, 1044)  # 44 px around it: under half the pixels
    assert tight.width * tight.height < 0.55 * usual.width * usual.height
    small = context_region(Box(10, 10, 30, 30), Box(40, 10, 60, 30), 200, 200, *area_rule(rule, "tight")[:2])
    assert small == Box(0, 0, 76, 46)  # a small edit keeps at least 16 px around it
    with pytest.raises(ValueError, match="unknown area 'wide'"):
        area_rule(rule, "wide")
