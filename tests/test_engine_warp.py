"""The object mapped onto the target: exact for a move, stretched its own way per variant for a reshape."""

import torch

from engine_fixtures import disc_scene
from magic_engine.init import starting_images
from magic_engine.pyramid import Level
from magic_engine.warp import variant_spread, warp_coordinates, warp_into_target


def _box(height, width, top, bottom, left, right):
    mask = torch.zeros(height, width, dtype=torch.bool)
    mask[top:bottom, left:right] = True
    return mask


def test_every_spread_copies_a_moved_object_exactly():
    rgb, src, tgt = disc_scene(64, 96)
    photo = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255
    src, tgt = torch.from_numpy(src), torch.from_numpy(tgt)
    plain = warp_into_target(photo, src, tgt)
    for spread in (1.0, -1.0, 0.5):
        assert torch.allclose(warp_into_target(photo, src, tgt, spread), plain, atol=1e-5)


def test_the_spread_says_where_a_wider_target_takes_its_extra_width():
    source = _box(40, 100, 10, 30, 20, 40)  # 20 px wide
    target = _box(40, 100, 10, 30, 20, 60)  # 40 px wide
    row = 20
    steps = {}
    for spread in (0.0, 1.0, -1.0):
        _, cols = warp_coordinates(source, target, spread)
        # The ends of the target take the ends of the source, whatever the spread.
        assert abs(cols[row, 20] - 20) < 0.4 and abs(cols[row, 59] - 39) < 0.4
        steps[spread] = cols[row, 21:60] - cols[row, 20:59]  # source px per target px
    assert torch.allclose(steps[0.0], torch.full_like(steps[0.0], 0.5), atol=1e-4)  # even: 2x everywhere
    # 1 keeps the edges at the source's own scale (one source px per target px) and stretches the middle.
    assert steps[1.0][0] > 0.95 and steps[1.0][-1] > 0.95 and steps[1.0][19] < 0.4
    # -1 keeps the middle at the source's own scale and stretches the edges.
    assert steps[-1.0][19] > 0.95 and steps[-1.0][0] < 0.4
    assert (steps[1.0] > 0).all() and (steps[-1.0] > 0).all()  # monotone: nothing is mirrored


def test_a_much_narrower_target_stays_monotone():
    source = _box(40, 100, 10, 30, 10, 90)
    target = _box(40, 100, 10, 30, 40, 50)
    for spread in (1.0, -1.0):
        _, cols = warp_coordinates(source, target, spread)
        assert (cols[20, 41:50] > cols[20, 40:49]).all()


def test_variants_of_a_reshape_stretch_the_object_differently():
    assert variant_spread(0) == 0.0 and len({variant_spread(v) for v in range(3)}) == 3
    photo = torch.rand(3, 40, 100, generator=torch.Generator().manual_seed(0))
    source = _box(40, 100, 10, 30, 20, 40)
    target = _box(40, 100, 10, 30, 20, 60)
    free = target | source
    starts, _ = starting_images("copy", photo, source, target, free, Level(100, 40, 1.0), 3, 0.0, 0.0,
                                lambda pixels: pixels, torch.Generator().manual_seed(0))
    new_area = target & ~source
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert (starts[a][:, new_area] - starts[b][:, new_area]).abs().mean() > 0.05
