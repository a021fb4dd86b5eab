"""The contact sheet lays tiles out in rows, scales them to one height and keeps text readable."""

import numpy as np
from PIL import Image

from magic_engine.evaluate import Tile, make_sheet, mask_overlay
from magic_engine.evaluate.sheet import SOURCE_COLOUR, TARGET_COLOUR


def test_tiles_are_scaled_to_one_height_and_placed_in_rows():
    red = np.zeros((50, 100, 3), np.uint8)
    red[..., 0] = 255
    blue = Image.new("RGB", (30, 60), (0, 0, 255))
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    sheet = make_sheet([[Tile(red, "wide"), Tile(blue, "tall", ["line one", "line two"])], [Tile(mask, "mask")]],
                       title="A title", tile_height=100, padding=10)
    pixels = np.asarray(sheet)
    # Row 1: the red tile is 200x100 after scaling, the blue one 50x100.
    red_cols = np.nonzero((pixels[..., 0] > 200) & (pixels[..., 2] < 50))[1]
    blue_cols = np.nonzero((pixels[..., 2] > 200) & (pixels[..., 0] < 50))[1]
    assert red_cols.max() - red_cols.min() + 1 == 200
    assert 49 <= blue_cols.max() - blue_cols.min() + 1 <= 51
    assert blue_cols.min() > red_cols.max()  # side by side
    red_rows = np.nonzero((pixels[..., 0] > 200) & (pixels[..., 2] < 50))[0]
    assert red_rows.max() - red_rows.min() + 1 == 100
    assert sheet.height > 2 * 100  # two rows
    # The boolean mask became a grey-level image: white square on black.
    assert (pixels > 250).all(axis=2).sum() >= 50 * 50


def test_long_text_widens_its_tile_instead_of_being_cut():
    small = np.zeros((10, 10, 3), np.uint8)
    label = "a label much wider than its ten pixel image"
    sheet = make_sheet([[Tile(small, label)]], tile_height=10)
    assert sheet.width > 200


def test_rgba_tiles_are_flattened():
    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent
    sheet = make_sheet([[Tile(rgba, "")]], tile_height=20, padding=0)
    assert sheet.mode == "RGB"
    assert np.asarray(sheet)[-5, 5].tolist() == [200, 200, 200]  # shown on light grey


def test_mask_overlay_tints_and_outlines_each_mask():
    image = np.full((30, 30, 3), 100, np.uint8)
    source = np.zeros((30, 30), bool)
    source[5:15, 5:15] = True
    target = np.zeros((30, 30), np.uint8)
    target[18:28, 18:28] = 255
    out = mask_overlay(image, [(source, SOURCE_COLOUR), (target, TARGET_COLOUR)])
    assert out[5, 5].tolist() == list(SOURCE_COLOUR)  # outline
    assert out[10, 10, 0] > 100 and out[10, 10, 2] < 100  # red tint inside
    assert out[23, 23, 2] > 100 and out[23, 23, 0] < 100  # blue tint inside
    assert out[0, 29].tolist() == [100, 100, 100]  # elsewhere untouched
