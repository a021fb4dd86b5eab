"""Box choice and compositing: only the edited area may change."""

import numpy as np
import pytest
import torch

from engine_fixtures import disc
from magic_common.region import widened
from magic_engine.region import (Box, blend_weights, choose_region, composite, edit_area, edit_band,
                                 edit_weights, feather_width, mask_box, object_diagonal, ramp_width)


def _masks(height, width, src_box, tgt_box):
    src = np.zeros((height, width), bool)
    tgt = np.zeros((height, width), bool)
    src[src_box[1]:src_box[3], src_box[0]:src_box[2]] = True
    tgt[tgt_box[1]:tgt_box[3], tgt_box[0]:tgt_box[2]] = True
    return src, tgt


def test_region_is_the_union_of_both_boxes_plus_margin_clamped():
    src, tgt = _masks(1000, 2000, (100, 200, 300, 400), (900, 250, 1100, 450))
    region = choose_region(src, tgt, context_margin=0.25, min_context=16)
    margin = int(np.ceil(0.25 * 1000))  # long side of the union box is 1000 px
    assert (region.left, region.top) == (0, 0)  # 100 - 250 clamped
    assert region.right == 1100 + margin and region.bottom == 450 + margin
    small = choose_region(*_masks(400, 400, (100, 100, 120, 120), (140, 100, 160, 120)), 0.25, 16)
    assert small.width == 60 + 32 and small.height == 20 + 32  # the minimum context wins for small boxes


def test_widened_grows_by_the_regions_own_size_within_the_image():
    region = Box(100, 50, 200, 90)  # 100 x 40
    assert widened(region, 1.0, 1000, 1000) == Box(0, 10, 300, 130)
    assert widened(region, 0.5, 240, 1000) == Box(50, 30, 240, 110)  # clamped on the right
    assert widened(region, 0.0, 1000, 1000) == region


def test_edit_area_is_both_masks_grown_by_the_band_and_weights_fade_inside_it():
    src, tgt = _masks(120, 200, (20, 40, 60, 80), (120, 40, 160, 80))
    region = choose_region(src, tgt, 0.25, 16)
    diagonal = object_diagonal(src, tgt, 0.25, 16)
    feather = feather_width(diagonal, 0.006)
    ys, xs = region.slices
    area = edit_area(torch.from_numpy(src[ys, xs]), torch.from_numpy(tgt[ys, xs]), edit_band(diagonal, 0.02, feather))
    weights = blend_weights(area, feather).numpy()
    assert (weights[src[ys, xs] | tgt[ys, xs]] == 1).all()  # both masks fully replaced
    assert (weights[~area.numpy()] == 0).all()  # nothing outside the area
    assert ((weights > 0) & (weights < 1)).any()  # a feathered edge
    assert np.array_equal(edit_weights(src, tgt, region, 0.02, 0.006, 0.25, 16), weights)


def test_the_band_scales_with_the_object_not_with_how_far_it_moves():
    # A 30 x 130 px post moved 60 px or 560 px: the same band, from the post's own region.
    near = _masks(400, 1000, (100, 100, 130, 230), (160, 100, 190, 230))
    far = _masks(400, 1000, (100, 100, 130, 230), (660, 100, 690, 230))
    assert object_diagonal(*near, 0.25, 16) == object_diagonal(*far, 0.25, 16)
    assert edit_band(object_diagonal(*far, 0.25, 16), 0.02, 1) == 6  # 3 px beyond the blend's 3 px ramp
    assert choose_region(*far, 0.25, 16).diagonal * 0.02 > 15  # what the region spanning both would give
    # A reshape into a larger target takes the larger object's band.
    wider = _masks(400, 1000, (100, 100, 130, 230), (100, 100, 330, 230))
    assert object_diagonal(*wider, 0.25, 16) > object_diagonal(*near, 0.25, 16)


def test_composite_changes_only_the_edited_area_and_keeps_alpha():
    rng = np.random.default_rng(1)
    height, width = 120, 160
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (height, width), dtype=np.uint8)
    src = disc(height, width, 60, 40, 15)
    tgt = disc(height, width, 60, 110, 15)
    region = choose_region(src, tgt, context_margin=0.25, min_context=16)
    weights = edit_weights(src, tgt, region, dilation=0.02, feather=0.01, context_margin=0.25, min_context=16)
    synthesized = np.full((region.height, region.width, 3), 7, np.uint8)
    out = composite(rgb, alpha, synthesized, region, weights)
    assert out.shape == (height, width, 4)

    full_weights = np.zeros((height, width), np.float32)
    full_weights[region.slices] = weights
    unchanged = full_weights == 0
    assert (out[..., :3][unchanged] == rgb[unchanged]).all()  # bit-identical outside
    assert (out[..., 3][unchanged] == alpha[unchanged]).all()
    edited = src | tgt
    assert (full_weights[edited] == 1).all()
    assert (out[..., :3][edited] == 7).all() and (out[..., 3][edited] == 255).all()
    assert unchanged.mean() > 0.5  # the edit is local


def test_an_object_cut_by_the_photo_edge_is_edited_up_to_that_edge():
    src, tgt = _masks(100, 100, (0, 30, 20, 60), (60, 30, 80, 60))
    region = choose_region(src, tgt, 0.25, 16)
    weights = edit_weights(src, tgt, region, 0.05, 0.03, 0.25, 16)  # a band of 6 px, its outer 3 a ramp
    assert (weights[30 - region.top:60 - region.top, 0] == 1).all()  # no feather along the image border
    assert (weights[30 - region.top:60 - region.top, 20 + 5 - region.left] < 1).all()  # but inside the band


def test_mask_box():
    m = np.zeros((10, 10), bool)
    m[2:5, 3:9] = True
    assert mask_box(m) == (3, 2, 9, 5)
    with pytest.raises(ValueError):
        mask_box(np.zeros((3, 3), bool))


@pytest.mark.parametrize("feather", [1, 2, 3, 4, 7, 12, 25, 40])
def test_the_blend_ramp_is_as_wide_as_ramp_width_says(feather):
    area = torch.zeros(200, 200, dtype=torch.bool)
    area[20:180, 20:180] = True
    row = blend_weights(area, feather)[100]
    below_one = int((row[20:100] < 1).sum())
    assert ramp_width(feather) - 1 <= below_one <= ramp_width(feather)  # weights near 1 round to 1
