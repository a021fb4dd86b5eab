"""Cloning a hole from clean background, healed to its tone; filling from beyond the region."""

import torch

from magic_engine.clone import HEAL_GAP, clone_shifts, healed_clone
from magic_engine.fill import Surroundings, fill_hole
from magic_engine.masks import dilate
from magic_engine.pyramid import Level


def _sky(height, width, seed=0):
    """A sky lighter towards the bottom, with a little grain."""
    gradient = torch.linspace(0.2, 0.8, height)[None, :, None].expand(3, height, width)
    grain = 0.03 * torch.rand(3, height, width, generator=torch.Generator().manual_seed(seed))
    return (gradient + grain).clamp(0, 1)


def test_clone_shifts_lay_the_hole_on_clean_background():
    hole = torch.zeros(40, 60, dtype=torch.bool)
    hole[15:25, 5:15] = True
    usable = ~dilate(hole, 3)
    photo = torch.rand(3, 40, 60, generator=torch.Generator().manual_seed(0))
    shifts = clone_shifts(photo, hole)
    rows, cols = torch.nonzero(hole, as_tuple=True)
    dy, dx = shifts[0]
    assert usable[(rows + dy).clamp(0, 39), (cols + dx).clamp(0, 59)].float().mean() >= 0.9
    assert len(set(shifts)) == len(shifts) > 4  # one per direction: variety for the variants


def test_a_heal_takes_the_tone_around_the_hole_not_its_glow_nor_a_structure_beside_it():
    # A piece cloned from 30 px lower is about 0.3 lighter than the hole's surroundings.
    # Right at the hole the photo still glows (the removed object lit it), and a dark
    # post stands beside it: neither may tint the clone.
    height, width = 60, 40
    photo = _sky(height, width)
    hole = torch.zeros(height, width, dtype=torch.bool)
    hole[10:24, 15:25] = True
    context = photo.clone()
    glow = dilate(hole, HEAL_GAP) & ~hole
    context[:, glow] = (context[:, glow] + 0.3).clamp(0, 1)
    context[:, 8:26, 27:29] = 0.0  # the post, inside the heal's ring
    healed = healed_clone(photo, context, hole, (30, 0))
    assert (healed[:, hole].mean() - photo[:, hole].mean()).abs() < 0.04
    assert healed[:, hole].std() > 0.005  # texture, not a flat tone
    assert torch.equal(healed[:, ~hole], context[:, ~hole])


def test_a_tall_narrow_hole_is_healed_from_its_sides_not_from_the_lights_at_its_foot():
    # The clone comes from beside the hole, the same rows of the same sky: nothing to
    # correct along the column's sides. Only at its foot is the photo lit (launch lights).
    # That light must not be carried up the column as a lighter stripe.
    height, width = 160, 100
    photo = _sky(height, width)
    hole = torch.zeros(height, width, dtype=torch.bool)
    hole[10:120, 38:62] = True
    context = photo.clone()
    context[:, 120:, :] = (context[:, 120:, :] + 0.1).clamp(0, 1)
    healed = healed_clone(photo, context, hole, (0, 35))
    upper_half = healed[:, 10:65, 38:62] - photo[:, 10:65, 38:62]
    assert upper_half.mean((0, 2)).abs().max() < 0.005  # per row; 0.013 with a wide average


def test_a_hole_is_filled_from_beyond_a_region_too_small_to_hold_a_patch():
    # The region is the hole and a 2 px rim: no 7x7 background patch fits in it. The
    # photo around it is a textured meadow; the fill continues that texture.
    generator = torch.Generator().manual_seed(3)
    blobs = 0.3 + 0.4 * torch.rand(1, 3, 15, 15, generator=generator)  # texture a few pixels across
    meadow = torch.nn.functional.interpolate(blobs, size=(60, 60), mode="bilinear", align_corners=False)[0]
    meadow[1] *= 1.5  # green
    meadow = meadow.clamp(0, 1)
    top, left = 22, 20
    region_photo = meadow[:, top:top + 16, left:left + 18].clone()
    hole = torch.zeros(16, 18, dtype=torch.bool)
    hole[2:14, 2:16] = True
    region_photo[:, hole] = torch.tensor([0.9, 0.1, 0.1])[:, None]  # the red object that leaves
    surroundings = Surroundings(meadow.clone(), top, left)
    surroundings.photo[:, top:top + 16, left:left + 18] = region_photo
    assert torch.equal(surroundings.crop(surroundings.paste(region_photo), 16, 18), region_photo)
    frame_hole = surroundings.paste(hole)
    filled, _ = fill_hole(surroundings.photo, surroundings.paste(region_photo), frame_hole,
                          surroundings.level(Level(18, 16, 1.0)), torch.Generator().manual_seed(0), clone_rank=0)
    inside = surroundings.crop(filled, 16, 18)[:, hole]
    # the meadow's colour (a copy of one part of it: its mean, not the whole meadow's), no red left
    assert (inside.mean(1) - meadow.mean((1, 2))).abs().max() < 0.08
    assert inside.std(1).min() > 0.5 * meadow.std((1, 2)).min()  # and its texture, not a blur


def test_a_star_fields_hole_is_not_cloned_from_its_one_empty_patch_of_sky():
    # Stars everywhere, except one starless patch right beside the hole: a clone
    # from there would leave the hole an empty black disc.
    generator = torch.Generator().manual_seed(3)
    height, width = 80, 120
    photo = torch.full((3, height, width), 0.05)
    stars = torch.rand(height, width, generator=generator) < 0.06
    photo[:, stars] = 0.9
    hole = torch.zeros(height, width, dtype=torch.bool)
    hole[30:46, 50:66] = True
    photo[:, 26:50, 70:100] = 0.05  # the empty patch, east of the hole
    rows, cols = torch.nonzero(hole, as_tuple=True)
    ring = dilate(hole, 3) & ~hole
    for dy, dx in clone_shifts(photo, hole)[:3]:
        piece = photo[0, (rows + dy).clamp(0, height - 1), (cols + dx).clamp(0, width - 1)]
        assert (piece > 0.5).float().mean() > 0.5 * (photo[0, ring] > 0.5).float().mean()


def test_a_clone_brings_no_light_from_beside_the_hole_where_its_surroundings_match_best():
    # A tall hole in a pattern that repeats every 15 px across: the pieces 15 and 30 px
    # east continue the hole's surroundings exactly (as the launch mount's lattice does
    # beside the rocket), every other piece less well. But each holds a small light
    # brighter than anything around the hole, as the launch lights are: a designer would
    # clone from elsewhere.
    generator = torch.Generator().manual_seed(5)
    height, width = 100, 140
    photo = 0.3 + 0.4 * torch.rand(3, height, width, generator=generator)
    photo[:, :, 50:] = photo[:, :, 50:65].repeat(1, 1, 6)[:, :, :width - 50]
    hole = torch.zeros(height, width, dtype=torch.bool)
    hole[20:80, 55:62] = True
    for east in (15, 30):
        photo[:, 70:74, 57 + east:61 + east] = 1.0  # 4x4 px: more than a star, less than a patch
    rows, cols = torch.nonzero(hole, as_tuple=True)
    dy, dx = clone_shifts(photo, hole)[0]
    piece = photo[:, (rows + dy).clamp(0, height - 1), (cols + dx).clamp(0, width - 1)]
    assert piece.min(0).values.max() < 0.8


def test_a_hole_with_nothing_around_it_still_gets_its_clone_shifts():
    # The whole image is the hole: no ring to judge pieces by (and no piece is clean).
    photo = torch.rand(3, 20, 30, generator=torch.Generator().manual_seed(0))
    shifts = clone_shifts(photo, torch.ones(20, 30, dtype=torch.bool))
    assert len(shifts) == 16
