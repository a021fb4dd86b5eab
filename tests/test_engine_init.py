"""Starting images: the object warped into the target's outline, the hole filled from the background."""

import numpy as np
import torch

from engine_fixtures import disc_scene
from magic_engine.classifier import IMAGENET_MEAN, IMAGENET_STD
from magic_engine.fill import fill_hole, fill_levels
from magic_engine.init import starting_images
from magic_engine.masks import dilate
from magic_engine.pyramid import Level
from magic_engine.warp import warp_coordinates, warp_into_target

MEAN = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def normalize(pixels):
    return (pixels - MEAN) / STD


def _scene(height=64, width=96):
    rgb, src, tgt = disc_scene(height, width)
    photo = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255
    return photo, torch.from_numpy(src), torch.from_numpy(tgt)


def test_a_moved_object_is_copied_exactly_and_a_wider_target_takes_its_outline():
    photo, src, tgt = _scene()
    moved = warp_into_target(photo, src, tgt)
    shift = 96 // 2  # the fixture's target disc is the source disc moved half the width right
    np.testing.assert_allclose(moved[:, tgt], photo[:, torch.roll(tgt, -shift, dims=1)], atol=1e-5)
    rows, cols = warp_coordinates(src, tgt)
    y, x = torch.nonzero(tgt)[0]
    assert abs(rows[y] - y) < 1e-4 and abs(cols[y, x] - (x - shift)) < 1e-3
    # A trapezoid target (wide top, narrow bottom) gets a trapezoid object, not a stretched box.
    square = torch.zeros(40, 60, dtype=torch.bool)
    square[10:30, 20:30] = True
    trapezoid = torch.zeros(40, 60, dtype=torch.bool)
    for row in range(10, 30):
        trapezoid[row, 20:30 + (30 - row)] = True
    image = torch.zeros(3, 40, 60)
    image[0, square] = 1.0
    warped = warp_into_target(image, square, trapezoid)
    inside = warped[0, trapezoid]
    assert inside.min() > 0.5 and inside.mean() > 0.95  # every target pixel holds the object (edges resampled)
    assert warped[0, 11, 45] > 0.9 and warped[0, 28, 35] < 0.1  # wide at the top, narrow at the bottom


def test_fill_keeps_known_pixels_and_removes_the_object():
    photo, src, tgt = _scene()
    moved = warp_into_target(photo, src, tgt)
    hole = dilate(src, 2) & ~tgt  # what the object leaves behind
    filled, _ = fill_hole(photo, moved, hole, Level(96, 64, 1.0), torch.Generator().manual_seed(0))
    assert torch.equal(filled[:, ~hole], moved[:, ~hole])
    red = torch.tensor([0.85, 0.1, 0.1])[:, None]
    assert ((filled[:, hole] - red).abs().max(0).values > 0.3).float().mean() > 0.95  # the disc is gone
    background = photo[:, ~dilate(src | tgt, 3)]
    assert (filled[:, hole].mean(1) - background.mean(1)).abs().max() < 0.1  # filled with background


def test_starting_images_keep_the_photo_outside_the_edit_area_and_differ_between_variants():
    photo, src, tgt = _scene()
    free = dilate(src | tgt, 3)
    reference = normalize(photo[None])[0]

    def make(kind, seed):
        return starting_images(kind, photo, src, tgt, free, Level(96, 64, 1.0), 3, 0.5, 0.05, normalize,
                               torch.Generator().manual_seed(seed), footprint=dilate(src, 2))[0]

    for kind in ("noise", "copy", "input"):
        a, b = make(kind, 1), make(kind, 1)
        assert a.shape == (3, 3, 64, 96) and torch.equal(a, b)  # seeded
        assert torch.equal(a[:, :, ~free], reference[:, ~free].expand(3, -1, -1))  # known pixels are the photo's
        assert not torch.equal(a[0], a[1])
    copies, _ = starting_images("copy", photo, src, tgt, free, Level(96, 64, 1.0), 3, 0.0, 0.0, normalize,
                                torch.Generator().manual_seed(0), footprint=dilate(src, 2))
    hole = dilate(src, 2) & free & ~tgt  # what the object leaves behind
    assert not torch.equal(copies[0][:, hole], copies[1][:, hole])  # each variant clones from elsewhere


def test_a_cloned_piece_takes_the_tone_of_the_hole_around_it():
    # A sky lighter towards the bottom: a piece cloned from lower down is lighter
    # than the hole's surroundings, and is healed to their tone, not pasted.
    height, width = 60, 40
    sky = torch.linspace(0.2, 0.8, height)[None, :, None].expand(3, height, width).clone()
    texture = 0.03 * torch.rand(3, height, width, generator=torch.Generator().manual_seed(0))
    photo = (sky + texture).clamp(0, 1)
    hole = torch.zeros(height, width, dtype=torch.bool)
    hole[10:24, 15:25] = True
    filled, _ = fill_hole(photo, photo, hole, Level(width, height, 1.0), torch.Generator().manual_seed(0),
                       noise=0.0, clone_rank=0, shifts=[(30, 0)])  # from 30 px lower: about 0.3 lighter
    error = (filled[:, hole] - sky[:, hole]).mean().abs()
    assert error < 0.05
    assert filled[:, hole].std() > 0.005  # texture, not a flat tone


def test_the_hole_is_filled_as_if_the_object_were_removed_wherever_it_goes():
    # The fill never sees the moved object: a target beside the hole or far from it
    # leaves the same fill in the hole.
    photo, src, _ = _scene()
    near = torch.roll(src, 22, dims=1)  # a disc just beside the source's footprint
    far = torch.roll(src, 48, dims=1)
    free = dilate(src | near | far, 3)

    def start(target):
        return starting_images("copy", photo, src, target, free, Level(96, 64, 1.0), 2, 0.0, 0.0, normalize,
                               torch.Generator().manual_seed(0), footprint=dilate(src, 2))[0]

    hole = dilate(src, 2) & free & ~dilate(near | far, 1)
    assert torch.equal(start(near)[:, :, hole], start(far)[:, :, hole])


def test_the_fill_goes_coarse_for_structure_and_stays_fine_on_a_texture_that_averages_away():
    # Coarse scales carry an edge across a hole; a star field's stars average away there,
    # and a fill that started from that blur would copy blank sky into the hole.
    hole = torch.zeros(400, 400, dtype=torch.bool)
    hole[180:220, 180:220] = True
    level = Level(400, 400, 1.0)
    halves = torch.zeros(3, 400, 400)
    halves[:, 200:] = 0.8  # a horizon through the hole
    assert [step.scale for step in fill_levels(level, halves, hole)] == [0.0625, 0.125, 0.25, 0.5, 1.0]
    stars = (torch.rand(400, 400, generator=torch.Generator().manual_seed(0)) < 0.03).float().expand(3, -1, -1)
    assert [step.scale for step in fill_levels(level, stars, hole)] == [1.0]
