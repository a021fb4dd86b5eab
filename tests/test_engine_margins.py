"""A loosely selected object's old background fades into its new place; a tight selection is left alone."""

import torch

from magic_engine.margins import background_behind, fade_margins, fade_weights
from magic_engine.masks import dilate, erode
from magic_engine.warp import warp_into_target

HEIGHT, WIDTH = 80, 160


def _disc(cy, cx, radius):
    rows = torch.arange(HEIGHT)[:, None]
    cols = torch.arange(WIDTH)[None]
    return (rows - cy) ** 2 + (cols - cx) ** 2 <= radius ** 2


def _meadow():
    """Dark ground on the right, lighter striped grass on the left, a bright flower
    (radius 10) on the dark ground at (40, 115)."""
    photo = torch.empty(3, HEIGHT, WIDTH)
    photo[:] = torch.tensor([0.10, 0.16, 0.08])[:, None, None]
    stripes = 0.05 * (torch.arange(WIDTH) % 6 < 3).float()
    photo[:, :, :80] = torch.tensor([0.30, 0.42, 0.22])[:, None, None] + stripes[:80]
    photo[:, _disc(40, 115, 10)] = torch.tensor([0.92, 0.88, 0.80])[:, None]
    return photo


def _moved(photo, source, target):
    """The result a move gives before the fade: the source's pixels copied into the target."""
    return warp_into_target(photo, source, target)[None]


def test_a_loose_selection_fades_its_old_background_into_the_new_place():
    photo = _meadow()
    source, target = _disc(40, 115, 22), _disc(40, 40, 22)  # the flower and a disc of dark ground
    result = _moved(photo, source, target)
    faded = fade_margins(result, photo, source, target)[0]
    outline = target & ~erode(target, 1)
    # At the target's outline the new place's grass shows, not the old dark ground...
    before = (result[0][:, outline] - photo[:, outline]).abs().mean()
    assert before > 0.15
    assert (faded[:, outline] - photo[:, outline]).abs().mean() < 0.5 * before
    # ...while the flower itself and everything outside the target are untouched.
    flower = _disc(40, 40, 9)
    assert torch.equal(faded[:, flower], result[0][:, flower])
    assert torch.equal(faded[:, ~target], result[0][:, ~target])


def test_a_selection_that_follows_the_object_edge_fades_nothing():
    photo = _meadow()
    source, target = _disc(40, 115, 10), _disc(40, 40, 10)  # exactly the flower
    assert not fade_weights(_moved(photo, source, target)[0], photo, source, target).any()


def test_a_tight_selection_of_an_object_close_to_its_background_fades_nothing():
    # A dull leaf only a little lighter than the ground, selected exactly: its edge is
    # the object's, so it must keep it, though the leaf is not far from the ground's tone.
    photo = _meadow()
    leaf = _disc(40, 115, 12)
    photo[:, leaf] += 0.09
    target = _disc(40, 40, 12)
    assert not fade_weights(_moved(photo, leaf, target)[0], photo, leaf, target).any()


def test_object_pixels_inside_the_band_stay_opaque():
    # A thin bright stem runs from the flower to the selection's outline.
    photo = _meadow()
    photo[:, 40:63, 114:117] = torch.tensor([0.85, 0.60, 0.20])[:, None, None]
    source, target = _disc(40, 115, 22), _disc(40, 40, 22)
    result = _moved(photo, source, target)[0]
    fade = fade_weights(result, photo, source, target)
    stem = torch.zeros(HEIGHT, WIDTH, dtype=torch.bool)
    stem[52:61, 40] = True  # the stem's middle column in its new place, inside the band
    assert fade[stem].max() < 0.05
    assert fade[target & ~_disc(40, 40, 20)].mean() > 0.5
    # The refinement may leave the stem a pixel or two off the warp's place: still kept.
    shifted = torch.where(target, torch.roll(result, 2, dims=2), result)
    assert fade_weights(shifted, photo, source, target)[torch.roll(stem, 2, dims=1)].max() < 0.05


def test_nothing_fades_where_the_target_lies_on_the_old_footprint():
    # Moved a little: the new place's outline partly lies where the object was,
    # whose background there is synthesised, not the photo's.
    photo = _meadow()
    source, target = _disc(40, 115, 22), _disc(40, 105, 22)
    fade = fade_weights(_moved(photo, source, target)[0], photo, source, target)
    assert not fade[source].any()


def test_on_the_old_footprint_the_margin_fades_into_the_background_made_there():
    # The same small move, with the background the refinement made under the old place
    # (here a lighter ground, to tell it from the photo): the loose margin fades into it.
    photo = _meadow()
    source, target = _disc(40, 115, 22), _disc(40, 105, 22)
    result = _moved(photo, source, target)
    background = torch.where(source[None], (photo + 0.2).clamp(0, 1), photo)
    faded = fade_margins(result, photo, source, target, background[None], footprint=source)[0]
    edge = target & ~erode(target, 1) & erode(source, 2)
    assert edge.sum() > 10
    before = (result[0][:, edge] - background[:, edge]).abs().mean()
    assert (faded[:, edge] - background[:, edge]).abs().mean() < 0.5 * before
    assert torch.equal(faded[:, ~target], result[0][:, ~target])
    # Right beside the old place, outside what was filled, the background is the photo,
    # which may still hold the old object's edge: nothing fades into it there.
    near_old = dilate(source, 3) & ~source & target
    assert near_old.any() and torch.equal(faded[:, near_old], result[0][:, near_old])


def test_a_thin_target_keeps_its_middle():
    # A long thin selection (a twig's shadow on the ground, selected loosely) moved from
    # dark ground to lighter: the band follows its thickness, not its large area, so its
    # middle row does not fade.
    photo = torch.full((3, 40, 1000), 0.1)
    photo[:, :20] = 0.4
    source = torch.zeros(40, 1000, dtype=torch.bool)
    source[28:35, 20:980] = True
    target = torch.roll(source, -20, dims=0)  # rows 8..14
    fade = fade_weights(warp_into_target(photo, source, target), photo, source, target)
    assert fade[target].max() > 0.3  # its edges do fade
    assert not fade[11, 40:960].any()  # its middle row does not (away from its ends)


def test_a_blurred_object_s_glow_moves_with_it():
    # A soft light (a toy under water, a lamp) whose glow spills past a snug selection:
    # across the outline the photo is alike, as on a loose selection, but the glow
    # inside the band is the object's own, and fading it into the dark ground at the
    # new place would leave the object shrunken, with a hard edge.
    height, width = 160, 360
    rows, cols = torch.arange(height)[:, None].float(), torch.arange(width)[None].float()
    photo = torch.empty(3, height, width)
    photo[:] = torch.tensor([0.10, 0.16, 0.08])[:, None, None]
    distance = ((rows - 80) ** 2 + (cols - 270) ** 2).sqrt()
    glow = torch.where(distance <= 25, torch.ones_like(distance), torch.exp(-(distance - 25) / 8))
    photo = photo * (1 - glow) + torch.tensor([0.3, 0.9, 0.95])[:, None, None] * glow
    source, target = distance <= 40, ((rows - 80) ** 2 + (cols - 75) ** 2) <= 40 ** 2
    fade = fade_weights(warp_into_target(photo, source, target), photo, source, target)
    band = target & ~erode(target, 4)
    assert fade[band].mean() < 0.15  # 0.24 when the background was guessed from right at the outline


def test_an_object_that_fills_its_region_is_not_taken_for_its_own_background():
    # The selection reaches within the fade band of the region's edges on every side: the
    # background behind it is guessed from the pixels right outside it, not from the object.
    photo = torch.full((3, 40, 60), 0.2)
    source = torch.zeros(40, 60, dtype=torch.bool)
    source[1:-1, 1:-1] = True
    photo[:, source] = 0.9
    behind = background_behind(photo, source, source)
    assert behind[:, source].max() < 0.25
