"""Region choice and compositing: only the edited area may change."""

import numpy as np
import pytest

from engine_fixtures import disc
from magic_engine.region import choose_region, composite, edit_weights, mask_box


def _masks(height, width, src_box, tgt_box):
    src = np.zeros((height, width), bool)
    tgt = np.zeros((height, width), bool)
    src[src_box[1]:src_box[3], src_box[0]:src_box[2]] = True
    tgt[tgt_box[1]:tgt_box[3], tgt_box[0]:tgt_box[2]] = True
    return src, tgt


def test_region_is_the_union_of_both_boxes_plus_margin_clamped():
    src, tgt = _masks(1000, 2000, (100, 200, 300, 400), (900, 250, 1100, 450))
    region = choose_region(src, tgt, size=224, min_side=64, context_margin=0.25, min_context=16)
    margin = int(np.ceil(0.25 * 1000))  # long side of the union box is 1000 px
    assert (region.left, region.top) == (0, 0)  # 100 - 250 clamped
    assert region.right == 1100 + margin and region.bottom == 450 + margin
    # aspect ratio kept (within rounding to 8 px) and about size^2 pixels
    assert region.work_width / region.work_height == pytest.approx(region.width / region.height, rel=0.05)
    assert region.work_width * region.work_height == pytest.approx(224 * 224, rel=0.1)
    assert region.work_width % 8 == 0 and region.work_height % 8 == 0


def test_small_region_is_not_enlarged_but_keeps_a_minimum_side():
    src, tgt = _masks(400, 400, (100, 100, 120, 120), (140, 100, 160, 120))
    region = choose_region(src, tgt, size=224, min_side=64, context_margin=0.25, min_context=16)
    assert region.width == 60 + 32 and region.height == 20 + 32
    assert min(region.work_width, region.work_height) == 64  # enlarged only up to min_side
    big = choose_region(*_masks(4000, 4000, (1000, 1000, 1400, 1400), (2000, 1000, 2400, 1400)),
                        size=224, min_side=64, context_margin=0.25, min_context=16)
    assert big.work_width * big.work_height <= 1.1 * 224 * 224


def test_extreme_aspect_ratio_is_capped_and_flagged():
    src, tgt = _masks(200, 20000, (10, 80, 30, 120), (19900, 80, 19990, 120))
    region = choose_region(src, tgt, size=128, min_side=32, context_margin=0.0, min_context=16)
    assert region.work_width <= 4 * 128 and region.work_height >= 32
    assert region.aspect_changed


def test_composite_changes_only_the_edited_area_and_keeps_alpha():
    rng = np.random.default_rng(1)
    height, width = 120, 160
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (height, width), dtype=np.uint8)
    src = disc(height, width, 60, 40, 15)
    tgt = disc(height, width, 60, 110, 15)
    region = choose_region(src, tgt, size=64, min_side=32, context_margin=0.25, min_context=16)
    weights = edit_weights(src, tgt, region, dilation=0.02, feather=0.03)
    synthesized = np.full((region.work_height, region.work_width, 3), 7, np.uint8)
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
    # the edit is local: the dilation + feather band is small compared to the image
    assert unchanged.mean() > 0.5
    # a feathered band exists between "replaced" and "kept"
    assert ((full_weights > 0) & (full_weights < 1)).any()


def test_thin_masks_survive_downscaling():
    src = np.zeros((2000, 2000), bool)
    src[1000, 100:1900] = True  # one pixel high
    tgt = np.zeros_like(src)
    tgt[500:520, 500:520] = True
    region = choose_region(src, tgt, size=64, min_side=32, context_margin=0.0, min_context=16)
    weights = edit_weights(src, tgt, region, 0.0, 0.0)
    assert weights[1000 - region.top, 100 - region.left:1900 - region.left].min() == 1.0


def test_mask_box():
    m = np.zeros((10, 10), bool)
    m[2:5, 3:9] = True
    assert mask_box(m) == (3, 2, 9, 5)
