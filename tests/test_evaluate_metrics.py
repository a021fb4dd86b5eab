"""Known-answer tests of the evaluation figures, on the bundled photos and on
synthetic scenes whose right answer is obvious."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from magic_engine import make_config
from magic_engine.evaluate import (copy_paste, find_cases, fit_pixel_classifier, iou, mask_adherence,
                                   mean_pairwise_difference, paste_and_heal, paste_object, patch_distance,
                                   sliced_wasserstein, uniform_noise)
from magic_engine.evaluate.areas import CaseAreas
from magic_engine.evaluate.detail import amplitude, high_pass, surroundings
from magic_engine.evaluate.diversity import photo_variation
from magic_engine.evaluate.fidelity import patches_in_mask
from magic_engine.evaluate.run import score_results
from magic_engine.evaluate.intact import is_box_stretch, move_shift, object_intact
from magic_engine.evaluate.targets import against_paste_heal, check_targets
from magic_engine.region import choose_region, edit_weights

CASES = Path(__file__).resolve().parents[1] / "examples" / "cases"


def engine_areas(case, target):
    """The scoring areas the engine's edit would give (preview preset), without running it."""
    cfg = make_config("preview", case.mode)
    region = choose_region(case.source, target, cfg.context_margin, cfg.min_context)
    weights = edit_weights(case.source, target, region, cfg.edit_dilation, cfg.edit_feather, cfg.context_margin,
                           cfg.min_context)
    edit = np.zeros(case.source.shape, bool)
    edit[region.slices] = weights > 0
    return CaseAreas.of(dataclasses.replace(case, target=target), region, edit), edit


def score(areas, images, edit):
    return score_results(areas, images, [edit] * len(images))


# The known answers below hold where the figures' own pixel classifier finds the object on
# the input; on the hard cases (a star's thin spikes in noise, a pebble among pebbles) it
# does not (fit IoU 0.63 on star-spikes-move), which is what those cases are for.
KNOWN_ANSWER_CASES = ("coffee-cup-wider", "dandelion-grass-move", "dandelion-stem-bent", "demo-rocket-move",
                      "tower-lattice-wider")


@pytest.fixture(scope="module")
def bundled():
    return find_cases(CASES, KNOWN_ANSWER_CASES)


def test_iou_known_values():
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[:, :5] = True  # 50 px
    b[:, 3:8] = True  # 50 px, 20 shared
    assert iou(a, b) == pytest.approx(20 / 80)
    assert iou(a, a) == 1.0
    assert iou(a, ~a) == 0.0


@pytest.mark.slow
def test_result_equal_to_input_with_target_equal_source_has_iou_near_1(bundled):
    for case in bundled:
        areas, edit = engine_areas(case, case.source)
        scores = score(areas, [case.image], edit)
        assert scores["mask_iou"] > 0.8, case.name
        assert scores["swd_object"] < 0.01, case.name
        assert scores["swd_background"] < 0.01, case.name
        assert scores["object_detail"] == pytest.approx(1.0), case.name
        assert scores["changed_outside"] == 0


def test_classifier_learns_object_colour_and_texture():
    rng = np.random.default_rng(1)
    rgb = np.full((64, 64, 3), 120, np.uint8)
    rgb[:, 32:] = rng.integers(60, 180, (64, 32, 3))  # same mean colour, strong texture
    mask = np.zeros((64, 64), bool)
    mask[:, 32:] = True
    classifier = fit_pixel_classifier(rgb, mask)
    assert mask_adherence(classifier, rgb, mask) > 0.9
    flipped = rgb[:, ::-1]  # texture moved to the left half
    assert mask_adherence(classifier, flipped, mask[:, ::-1]) > 0.9
    assert mask_adherence(classifier, flipped, mask) < 0.1


@pytest.mark.slow
def test_noise_scores_worst(bundled):
    for case in bundled:
        areas, edit = engine_areas(case, case.target)
        pasted = score(areas, [copy_paste(case.image, case.source, case.target)], edit)
        unchanged = score(areas, [case.image], edit)
        noise = score(areas, [uniform_noise(case.image, edit.astype(np.float32), seed=s) for s in range(2)], edit)
        assert noise["swd_object"] > 2 * pasted["swd_object"], case.name
        for other in (pasted, unchanged):  # (doing nothing can be worse on object patches: sky is no rocket)
            assert noise["swd_background"] > 2 * other["swd_background"], case.name
        assert noise["mask_iou"] < pasted["mask_iou"], case.name


@pytest.mark.slow
def test_copy_paste_beats_doing_nothing_on_a_move(bundled):
    case = next(c for c in bundled if c.name == "demo-rocket-move")
    areas, edit = engine_areas(case, case.target)
    pasted = score(areas, [copy_paste(case.image, case.source, case.target)], edit)
    unchanged = score(areas, [case.image], edit)
    assert pasted["mask_iou"] > unchanged["mask_iou"] + 0.2
    assert pasted["swd_object"] < unchanged["swd_object"]


def test_patch_distance_of_input_to_itself_is_zero_and_grows_with_noise(bundled):
    case = bundled[0]
    image, mask = case.image, case.source
    assert patch_distance(image, mask, image, mask) == pytest.approx(0.0, abs=0.01)
    rng = np.random.default_rng(0)
    distances = []
    for sigma in (0, 5, 15, 40, 90):
        noisy = np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)
        distances.append(patch_distance(noisy, mask, image, mask))
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


def test_sliced_wasserstein_of_flat_images_is_their_value_gap():
    # A flat patch is the vector v*(1,...,1); its projection on a random unit
    # direction u is v*sum(u), and E[sum(u)^2] = 1, so the distance is ~|v - w|.
    mask = np.ones((32, 32), bool)
    dark = np.full((32, 32, 3), 50, np.uint8)
    light = np.full((32, 32, 3), 150, np.uint8)
    distance = patch_distance(dark, mask, light, mask)
    assert distance == pytest.approx(100 / 255, rel=0.2)
    assert sliced_wasserstein(np.zeros((5, 4)), np.zeros((9, 4))) == 0.0


def test_patches_are_reproducible_and_centred_in_the_mask():
    rgb = np.random.default_rng(0).integers(0, 256, (200, 200, 3)).astype(np.uint8)
    mask = np.zeros((200, 200), bool)
    mask[50:150, 50:150] = True
    a = patches_in_mask(rgb, mask, max_patches=500, seed=3)
    b = patches_in_mask(rgb, mask, max_patches=500, seed=3)
    assert a.shape == (500, 147)
    np.testing.assert_array_equal(a, b)
    single = np.zeros((200, 200), bool)
    single[10, 20] = True
    patch = patches_in_mask(rgb, single)[0].reshape(3, 7, 7)
    np.testing.assert_allclose(patch[:, 3, 3], rgb[10, 20] / 255, atol=1e-6)


def test_diversity_zero_for_identical_variants_and_grows_with_difference():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    area = np.ones((40, 40), bool)
    assert mean_pairwise_difference([image, image.copy(), image.copy()], area) == 0.0
    assert mean_pairwise_difference([image], area) is None
    shifted = np.clip(image.astype(int) + 51, 0, 255).astype(np.uint8)
    small = mean_pairwise_difference([image, shifted], area)
    other = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    assert 0 < small <= 0.2 + 1e-6
    assert mean_pairwise_difference([image, other], area) > small
    outside = image.copy()
    outside[:, :20] = 0
    half = np.zeros((40, 40), bool)
    half[:, 20:] = True
    assert mean_pairwise_difference([image, outside], half) == 0.0  # differences outside the area ignored


def test_copy_paste_puts_object_in_target_box_and_leaves_the_hole():
    rgb = np.full((60, 80, 3), 30, np.uint8)
    rgb[10:20, 10:20] = (250, 0, 0)  # the object: a red 10x10 square
    source = np.zeros((60, 80), bool)
    source[10:20, 10:20] = True
    target = np.zeros((60, 80), bool)
    target[30:50, 40:60] = True  # twice as large
    out = copy_paste(rgb, source, target)
    red = (out[..., 0] > 200) & (out[..., 1] < 50)
    assert red[30:50, 40:60].mean() > 0.9  # the object fills the target box
    np.testing.assert_array_equal(out[~target], rgb[~target])  # source area and all else untouched


def test_uniform_noise_changes_only_weighted_pixels():
    rgb = np.full((30, 30, 3), 100, np.uint8)
    weights = np.zeros((30, 30), np.float32)
    weights[5:15, 5:15] = 1.0
    out = uniform_noise(rgb, weights, seed=1)
    np.testing.assert_array_equal(out[weights == 0], rgb[weights == 0])
    assert out[weights == 1].std() > 50  # uniform 0..255 has std ~74
    np.testing.assert_array_equal(out, uniform_noise(rgb, weights, seed=1))


def test_noise_is_not_taken_for_the_object():
    # A two-class classifier would call noise "object" (it is not background);
    # the novelty check must not.
    yy, xx = np.mgrid[:80, :120]
    rgb = np.zeros((80, 120, 3), np.uint8)
    rgb[..., 1] = 90 + 60 * ((xx // 5) % 2)  # green stripes
    source = (yy - 40) ** 2 + (xx - 30) ** 2 <= 15 ** 2
    target = (yy - 40) ** 2 + (xx - 90) ** 2 <= 15 ** 2
    rgb[source] = (220, 30, 30)
    classifier = fit_pixel_classifier(rgb, source)
    moved = rgb.copy()
    moved[source] = rgb[~source][0]
    moved[target] = (220, 30, 30)
    assert mask_adherence(classifier, moved, target) > 0.8
    noisy = uniform_noise(rgb, target.astype(np.float32), seed=0)
    noisy[source] = rgb[~source][0]
    assert mask_adherence(classifier, noisy, target) < 0.1


def test_detail_figures_see_blur_and_keep_their_scale():
    rng = np.random.default_rng(0)
    texture = rng.integers(60, 200, (80, 80, 3)).astype(np.uint8)
    mask = np.zeros((80, 80), bool)
    mask[20:60, 20:60] = True
    sharp = amplitude(texture, mask)
    blurred = texture.copy()
    for _ in range(3):  # a 3x3 box blur, three times
        padded = np.pad(blurred.astype(np.float32), ((1, 1), (1, 1), (0, 0)), mode="edge")
        blurred = sum(padded[dy:dy + 80, dx:dx + 80] for dy in range(3) for dx in range(3)) / 9
    assert amplitude(blurred.astype(np.uint8), mask) < 0.3 * sharp
    flat = np.full((80, 80, 3), 128, np.uint8)
    assert amplitude(flat, mask) < 1e-3 and np.abs(high_pass(flat)).max() < 1e-3  # float rounding only
    ring = surroundings(mask, mask)
    assert not (ring & mask).any() and ring.any()
    assert amplitude(texture, np.zeros((80, 80), bool)) is None  # nothing to measure


def test_paste_object_keeps_full_resolution_pixels_and_heal_fills_the_hole_with_texture():
    pytest.importorskip("cv2", reason="the paste + heal baseline needs opencv-contrib (the evaluate extra)")
    rng = np.random.default_rng(2)
    rgb = rng.integers(90, 130, (90, 120, 3)).astype(np.uint8)  # grainy grey background
    source = np.zeros((90, 120), bool)
    source[30:60, 15:45] = True
    rgb[source] = (230, 40, 40)
    target = np.zeros((90, 120), bool)
    target[30:60, 70:100] = True
    pasted, covered = paste_object(rgb, source, target)
    np.testing.assert_array_equal(pasted[target], rgb[source])  # same size: the exact pixels
    assert covered.sum() == target.sum()
    healed, changed = paste_and_heal(rgb, source, target, (0, 0, 120, 90), rim=2)
    np.testing.assert_array_equal(healed[~changed], rgb[~changed])
    hole = healed[source]
    assert np.abs(hole.astype(int) - (230, 40, 40)).max(axis=1).min() > 60  # the red object is gone
    assert 80 <= hole.mean() <= 140 and hole.std() > 3  # background texture, not a flat fill


def test_paste_and_heal_pastes_a_soft_selection_with_its_opacity_as_gimp_does():
    pytest.importorskip("cv2", reason="the paste + heal baseline needs opencv-contrib (the evaluate extra)")
    rng = np.random.default_rng(3)
    rgb = rng.integers(90, 130, (90, 120, 3)).astype(np.uint8)
    opacity = np.zeros((90, 120), np.float32)
    opacity[30:60, 15:45] = 1.0
    opacity[30:60, 45:50] = np.linspace(0.8, 0.0, 5)  # a soft right edge
    rgb[30:60, 15:45] = (230, 40, 40)
    source, target = opacity >= 0.5, np.roll(opacity >= 0.5, 55, axis=1)
    healed, changed = paste_and_heal(rgb, source, target, (0, 0, 120, 90), rim=2, opacity=opacity,
                                     shift=move_shift(source, target))
    np.testing.assert_array_equal(healed[target & np.roll(opacity == 1, 55, axis=1)], rgb[opacity == 1])
    # The soft edge lands on what lies at the new place: the photo's pixel moved, at its opacity.
    edge = healed[30:60, 100:105].astype(float)
    expected = opacity[30:60, 45:50, None] * rgb[30:60, 45:50] + (1 - opacity[30:60, 45:50, None]) * rgb[30:60, 100:105]
    assert np.abs(edge - expected).max() <= 1
    assert changed[30:60, 45:51].all()  # and where it was, it is healed too (the rim: 2 px)


def test_photo_variation_is_small_for_a_smooth_sky_and_large_for_grass():
    rows = np.linspace(100, 140, 60)[:, None, None]
    sky = np.broadcast_to(rows + np.array([0, 20, 80]), (60, 80, 3)).round().astype(np.uint8)
    grass = np.random.default_rng(1).integers(40, 200, (60, 80, 3)).astype(np.uint8)
    everywhere = np.ones((60, 80), bool)
    assert photo_variation(sky, everywhere) < 0.02  # 7 px apart down a gentle gradient
    assert photo_variation(grass, everywhere) > 0.15
    strip = np.zeros((60, 80), bool)
    strip[10:14, :] = True  # too thin for a vertical pair: the horizontal pairs alone count
    assert photo_variation(sky, strip) == pytest.approx(0.0, abs=1e-6)
    assert photo_variation(sky, np.zeros((60, 80), bool)) is None


def test_targets_are_checked_per_figure():
    magic = {"object_intact": 0.99, "object_detail": 0.9, "hole_texture": 1.4, "diversity": 0.05, "mask_iou": 0.7,
             "changed_outside": 0}
    healed = {"mask_iou": 0.75}
    checks = {c["name"]: c["met"] for c in check_targets("position", {"magic": magic, "paste_heal": healed},
                                                          photo_variation=0.08)}
    assert checks == {"object intact >= 0.97": True, "object detail >= 0.85": True,
                      "hole texture in 0.8..1.25": False, "diversity >= 0.5 x the photo's own variation": True,
                      "IoU >= paste + heal - 0.02": False, "changed outside = 0": True}
    beside = {c["name"]: c["value"] for c in check_targets("position", {"magic": magic}, photo_variation=0.2)}
    assert beside["diversity >= 0.5 x the photo's own variation"] == "0.0500 = 0.25 x 0.2000"
    shape = {c["name"]: c["met"] for c in check_targets("shape", {"magic": {**magic, "object_intact": None},
                                                                  "paste_heal": healed})}
    assert shape["IoU > paste + heal"] is False and "object intact >= 0.97" not in shape
    # a target that is the source scaled to its box: the paste reaches it exactly, a tie will do
    stretch = {c["name"]: c["met"] for c in check_targets("shape", {"magic": {**magic, "object_intact": None},
                                                                    "paste_heal": {"mask_iou": 0.71}}, stretch=True)}
    assert stretch["IoU >= paste + heal - 0.02"] is True and "IoU > paste + heal" not in stretch


def test_against_paste_heal_judges_each_figure_its_own_way():
    magic = {"mask_iou": 0.8, "object_intact": 0.9, "object_detail": 0.8, "hole_texture": 1.1,
             "swd_object": 0.01, "swd_background": 0.03}
    healed = {"mask_iou": 0.8, "object_intact": 1.0, "object_detail": 1.3, "hole_texture": 0.85,
              "swd_object": 0.02, "swd_background": 0.02}
    verdict = {row["figure"]: row["as_good"] for row in against_paste_heal({"magic": magic, "paste_heal": healed})}
    # a tie counts as at least as good; detail and texture are judged by their distance to 1 (as a ratio)
    assert verdict == {"mask_iou": True, "object_intact": False, "object_detail": True, "hole_texture": True,
                       "swd_object": True, "swd_background": False}
    assert against_paste_heal({"magic": magic}) == []


def test_object_intact_counts_the_moved_pixels_that_arrive_as_themselves():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (80, 120, 3), dtype=np.uint8)
    source = np.zeros((80, 120), bool)
    source[20:50, 10:40] = True
    target = np.roll(np.roll(source, 50, axis=1), 10, axis=0)
    shift = move_shift(source, target)
    assert shift == (10, 50)
    moved = image.copy()
    moved[target] = image[source]
    assert object_intact(image, moved, source, target, shift) == 1.0
    blurred = moved.copy()
    blurred[target] = (moved[target].astype(int) // 2 + 64).astype(np.uint8)  # a repainting, not the object
    assert object_intact(image, blurred, source, target, shift) < 0.5
    wider = source.copy()
    wider[20:50, 40:60] = True
    assert move_shift(source, wider) is None  # a reshape has no pixel-for-pixel correspondence
    assert object_intact(image, moved, source, wider, None) is None


def test_a_target_that_is_the_source_scaled_to_its_box_is_a_stretch():
    rows, cols = np.mgrid[:100, :100]
    source = ((rows - 50) / 20) ** 2 + ((cols - 30) / 10) ** 2 <= 1
    wider = np.zeros_like(source)
    wider[:, 40:82] = np.repeat(source[:, 20:41], 2, axis=1)  # twice as wide, as a scaled paste is
    assert is_box_stretch(source, wider)
    bent = wider & ~((rows < 50) & (cols > 60))  # a quarter cut away: not a stretch
    assert not is_box_stretch(source, bent)
