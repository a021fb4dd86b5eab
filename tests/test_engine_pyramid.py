"""The levels MAGIC works at: classifier scale first, the photo's own last, aspect kept."""

import pytest
import torch

from magic_engine.pyramid import MAX_AREA_FACTOR, coarse_scale, levels_for, resize, resize_mask, Level


@pytest.mark.parametrize("width,height", [(271, 427), (1500, 2000), (6000, 400), (3000, 3000), (90, 60)])
def test_levels_keep_the_aspect_ratio_and_end_at_the_region_itself(width, height):
    levels = levels_for(width, height, 224, 64)
    assert (levels[-1].width, levels[-1].height) == (width, height) or levels[-1].scale > 1
    for level in levels:
        # each side is the region's side times the level's scale, rounded: aspect kept to a pixel
        assert abs(level.width - width * level.scale) <= 0.5 and abs(level.height - height * level.scale) <= 0.5
    for coarse, fine in zip(levels, levels[1:]):
        assert 1.25 <= fine.scale / coarse.scale <= 2.5  # about twice as fine each time, no tiny last step


def test_level_zero_is_the_classifier_scale_and_never_enlarges_a_normal_region():
    level = levels_for(1500, 2000, 224, 64)[0]
    assert level.pixels == pytest.approx(224 * 224, rel=0.02)
    assert levels_for(200, 150, 224, 64) == [Level(200, 150, 1.0)]  # smaller than 224^2: one level, as is


def test_tiny_and_elongated_regions():
    tiny = levels_for(20, 30, 128, 64)
    assert len(tiny) == 1 and min(tiny[0].width, tiny[0].height) == 64  # enlarged so the classifier has room
    strip = levels_for(20000, 200, 128, 64)
    first = strip[0]
    # an extreme strip does not explode the cost (the 5 %: its short side is rounded)
    assert first.pixels <= MAX_AREA_FACTOR * 128 * 128 * 1.05
    assert abs(first.height - 200 * first.scale) <= 0.5 and first.width == 20000 * first.scale  # to scale
    assert coarse_scale(20000, 200, 128, 64) < 64 / 200


def test_resize_and_mask_resize():
    image = torch.rand(3, 40, 60)
    small = resize(image, Level(30, 20, 0.5))
    assert small.shape == (3, 20, 30)
    assert torch.equal(resize(image, Level(60, 40, 1.0)), image)
    thin = torch.zeros(40, 60, dtype=torch.bool)
    thin[20, :] = True
    assert not resize_mask(thin, Level(15, 10, 0.25)).any()  # half coverage: a 1 px line vanishes
    assert resize_mask(thin, Level(15, 10, 0.25), cover="any").any()  # any coverage: it survives
