"""Whole runs on small CPU settings: modes, progress, cancellation, seeds, CLI."""

import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from engine_fixtures import TEST_DEVICE, disc_scene
from magic_engine import (MODES, Cancelled, ConfigError, load_classifier, make_config, synthesize)
from magic_engine.objective import TERMS


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("random:resnet18", TEST_DEVICE)


@pytest.fixture(scope="module")
def scene():
    return disc_scene(96, 128)


def _run(scene, classifier, **kwargs):
    rgb, src, tgt = scene
    config = kwargs.pop("config", None) or make_config("tiny", kwargs.pop("mode", "position"))
    kwargs.setdefault("device", TEST_DEVICE)
    return synthesize(rgb, src, tgt, config, classifier=classifier, **kwargs)


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_produces_variants_and_composites(scene, classifier, mode):
    rgb, src, tgt = scene
    result = _run(scene, classifier, mode=mode, seed=1)
    cfg = make_config("tiny", mode)
    assert len(result.variants) == len(result.composites) == cfg.variants
    assert result.variants[0].shape == (result.region.height, result.region.width, 3)  # the region's own size
    assert result.composites[0].shape == rgb.shape and result.composites[0].dtype == np.uint8
    assert result.report.config.mode == mode
    assert set(result.report.final_losses) == set(TERMS) | {"total"}
    assert all(np.isfinite(v) for v in result.report.final_losses.values())
    kept = result.edit_mask == 0
    for comp in result.composites:
        assert (comp[kept] == rgb[kept]).all()
    assert (result.edit_mask[src | tgt] == 255).all()
    # variants differ from each other (different noise starts)
    assert not np.array_equal(result.variants[0], result.variants[1])


def test_same_seed_same_result_other_seed_other_result(scene, classifier):
    a = _run(scene, classifier, seed=5)
    b = _run(scene, classifier, seed=5)
    c = _run(scene, classifier, seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(a.variants, b.variants))
    assert not np.array_equal(a.variants[0], c.variants[0])


def test_progress_reports_every_phase_with_losses_eta_and_previews(scene, classifier):
    seen = []
    config = make_config("tiny", "shape", iterations=40, mask_net_steps=10, preview_every=10)
    _run(scene, classifier, config=config, progress=seen.append)
    phases = [p.phase for p in seen]
    assert phases[0] == "mask_net" and phases[-1] == "refine"
    assert phases.index("refine") > max(i for i, phase in enumerate(phases) if phase == "synthesis")
    synth = [p for p in seen if p.phase == "synthesis"]
    assert [p.step for p in synth] == list(range(1, 41))
    assert all(p.total == 40 for p in synth)
    assert synth[1].eta_s > synth[-1].eta_s >= 0  # the last synthesis step still counts the refinement
    assert set(synth[-1].losses) == set(TERMS) | {"total"}
    previews = [p.preview for p in synth if p.preview is not None]
    assert len(previews) == 4 and previews[0].dtype == np.uint8 and previews[0].ndim == 3
    assert all(b.elapsed_s >= a.elapsed_s for a, b in zip(seen, seen[1:]))


def test_a_non_finite_gradient_never_reaches_the_result(scene, classifier, monkeypatch):
    """bf16 on a tiny image can overflow: those pixels skip the step, the result stays a photo."""
    from magic_engine.objective import MagicObjective

    clean = _run(scene, classifier, seed=3)
    real_gradient = MagicObjective.image_gradient

    def overflowing(self, x, adversarial):
        grad, terms = real_gradient(self, x, adversarial)
        grad = grad.clone()
        grad[:, :, ::2] = float("nan")  # every other row, every step
        grad[:, :, 1::4] = float("inf")
        return grad, terms

    monkeypatch.setattr(MagicObjective, "image_gradient", overflowing)
    result = _run(scene, classifier, seed=3)
    for repaired, reference in zip(result.composites, clean.composites):
        assert np.abs(repaired.astype(int) - reference.astype(int)).mean() < 8  # not black, close to the clean run
    edit = result.edit_mask > 0
    assert all(c[edit].mean() > 20 for c in result.composites)


def test_interleaved_mask_net_schedule_runs(scene, classifier):
    config = make_config("tiny", "shape", mask_net_training="interleaved", mask_net_steps=6)
    result = _run(scene, classifier, config=config)
    assert result.report.times.mask_net == 0


def test_cancel_takes_effect_within_one_step(scene, classifier):
    cancel = threading.Event()
    steps = []

    def progress(p):
        if p.phase == "synthesis":
            steps.append(p.step)
            if p.step == 7:
                cancel.set()

    config = make_config("tiny", "position", iterations=500)
    with pytest.raises(Cancelled, match="step 7 of 500"):
        _run(scene, classifier, config=config, progress=progress, cancel=cancel)
    assert steps[-1] == 7


def test_cancel_during_mask_net_training_and_by_callable(scene, classifier):
    with pytest.raises(Cancelled, match="before the start"):
        _run(scene, classifier, cancel=lambda: True)
    seen = []
    with pytest.raises(Cancelled, match="mask network"):
        _run(scene, classifier, progress=seen.append, cancel=lambda: bool(seen))


def test_unavailable_device_is_a_clear_error(scene, classifier):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="no usable CUDA GPU"):
        _run(scene, classifier, device="cuda")


def test_config_rejects_typos_and_bad_values():
    with pytest.raises(ConfigError, match="unknown config field"):
        make_config("preview", "shape", iteratoins=5)
    with pytest.raises(ConfigError, match="variants must be"):
        make_config("preview", "shape", variants=0)
    with pytest.raises(ConfigError, match="unknown mode 'move'"):
        make_config("preview", "move")


@pytest.mark.slow
def test_cli_synthesize_writes_variants_composites_and_report(tmp_path, scene):
    rgb, src, tgt = scene
    Image.fromarray(rgb).save(tmp_path / "img.png")
    Image.fromarray(src.astype(np.uint8) * 255).save(tmp_path / "src.png")
    Image.fromarray(tgt.astype(np.uint8) * 255).save(tmp_path / "tgt.png")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "magic_engine", "synthesize", "--image", str(tmp_path / "img.png"),
           "--source-mask", str(tmp_path / "src.png"), "--target-mask", str(tmp_path / "tgt.png"),
           "--out", str(out), "--mode", "shape", "--preset", "tiny", "--variants", "3", "--iterations", "8",
           "--seed", "4", "--device", "cpu", "--classifier", "random:resnet18"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "UNTRAINED" in done.stderr  # the loud warning reaches the terminal
    for i in range(3):
        assert Image.open(out / f"composite_{i}.png").size == (128, 96)
        assert (out / f"variant_{i}.png").is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["iterations"] == 8 and report["seed"] == 4 and report["device"] == "cpu"
    assert report["classifier"] == "random resnet18" and report["total_seconds"] > 0
    assert report["seconds_per_step"] > 0 and set(report["final_losses"]) == set(TERMS) | {"total"}


@pytest.mark.slow
def test_cli_reports_bad_input_without_a_traceback(tmp_path, scene):
    rgb, src, _ = scene
    Image.fromarray(rgb).save(tmp_path / "img.png")
    Image.fromarray(src.astype(np.uint8) * 255).save(tmp_path / "src.png")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "tgt.png")
    cmd = [sys.executable, "-m", "magic_engine", "synthesize", "--image", str(tmp_path / "img.png"),
           "--source-mask", str(tmp_path / "src.png"), "--target-mask", str(tmp_path / "tgt.png"),
           "--out", str(tmp_path / "out"), "--preset", "tiny", "--classifier", "random:resnet18"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "error: target mask is 10x10 px but the image is 128x96 px" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_bench_prints_one_json_line():
    cmd = [sys.executable, "-m", "magic_engine", "bench", "--size", "64", "--batch", "2", "--steps", "5",
           "--rounds", "1", "--device", "cpu", "--preset", "tiny", "--arch", "resnet18"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # Which is faster is the benchmark's to print, not a test's to assert (one noisy round of 5 steps).
    assert figures["full_s_per_step"] > 0 and figures["engine_classifier_s_per_step"] > 0
    assert figures["classifier_s_per_step"] > 0 and figures["arch"] == "resnet18"
    assert figures["ratio"] == pytest.approx(figures["full_s_per_step"] / figures["classifier_s_per_step"], rel=0.01)


@pytest.mark.slow
def test_cli_set_overrides_any_config_field(tmp_path, scene):
    from magic_engine.overrides import parse_overrides

    assert parse_overrides(["mask_net_width=64", "precision=fp32", "adam_betas=(0.5, 0.9)"]) == {
        "mask_net_width": 64, "precision": "fp32", "adam_betas": (0.5, 0.9)}
    with pytest.raises(ConfigError, match="FIELD=VALUE"):
        parse_overrides(["oops"])
    rgb, src, tgt = scene
    Image.fromarray(rgb).save(tmp_path / "img.png")
    Image.fromarray(src.astype(np.uint8) * 255).save(tmp_path / "src.png")
    Image.fromarray(tgt.astype(np.uint8) * 255).save(tmp_path / "tgt.png")
    cmd = [sys.executable, "-m", "magic_engine", "synthesize", "--image", str(tmp_path / "img.png"),
           "--source-mask", str(tmp_path / "src.png"), "--target-mask", str(tmp_path / "tgt.png"),
           "--out", str(tmp_path / "out"), "--preset", "tiny", "--classifier", "random:resnet18",
           "--set", "critic_width=4", "--set", "init=noise", "--set", "precision=fp32"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["config"]["critic_width"] == 4 and report["config"]["init"] == "noise"
    assert report["precision"] == "fp32" and 0 <= report["mask_net_fit_iou"] <= 1
    bad = subprocess.run(cmd[:-6] + ["--set", "critic_widht=4"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "unknown config field(s): critic_widht" in bad.stderr


# ------------------------------------------------------------ the pyramid, end to end


def textured_scene(height=180, width=240, seed=3):
    """A grainy disc with fine texture on a smooth gradient: detail that a plain resize would lose."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    rgb = np.stack([40 + 0.2 * xx, 80 + 0.1 * yy, np.full(xx.shape, 150.0)], axis=2)
    rgb += rng.normal(0, 2, rgb.shape)
    source = (yy - 90) ** 2 + (xx - 60) ** 2 <= 30 ** 2
    target = (yy - 90) ** 2 + (xx - 170) ** 2 <= 30 ** 2
    rgb[source] = rng.integers(60, 250, (int(source.sum()), 3))  # fine, high-contrast texture
    return np.clip(rgb, 0, 255).astype(np.uint8), source, target


def _detail(image, mask):
    from magic_engine.evaluate.detail import amplitude
    return amplitude(image, mask)


@pytest.fixture(scope="module")
def textured():
    return textured_scene()


def test_every_level_keeps_the_aspect_ratio_and_the_last_is_the_region(textured, classifier):
    rgb, src, tgt = textured
    result = _run(textured, classifier)
    levels = [[level.width, level.height] for level in result.report.levels]
    width, height = result.region.width, result.region.height
    assert len(levels) >= 2 and levels[-1] == [width, height]
    for w, h in levels:
        assert abs(w / h - width / height) <= 0.5 / (h - 0.5) * (1 + width / height)  # sides rounded, no stretch
    assert result.report.refine.searched == levels and not result.report.refine.carried


def test_known_pixels_are_the_photos_own_bit_for_bit_at_full_resolution(textured, classifier):
    rgb, src, tgt = textured
    result = _run(textured, classifier, seed=2)
    ys, xs = result.region.slices
    kept = result.edit_mask[ys, xs] == 0
    for variant, comp in zip(result.variants, result.composites):
        assert np.array_equal(variant[kept], rgb[ys, xs][kept])
        assert np.array_equal(comp[result.edit_mask == 0], rgb[result.edit_mask == 0])
    # the moved object keeps its fine detail: it is the photo's own pixels, not an enlarged copy
    assert _detail(result.composites[0], tgt) > 0.8 * _detail(rgb, src)


def test_progress_counts_the_levels_and_cancel_stops_during_the_refinement(textured, classifier):
    seen = []
    _run(textured, classifier, progress=seen.append)
    refine = [p for p in seen if p.phase == "refine"]
    levels = len(refine[-1:] and range(refine[-1].total))
    assert [p.step for p in refine] == list(range(levels)) + [levels] and levels >= 1
    assert all(p.eta_s > 0 for p in refine[:-1])  # every finer level says how long the rest will take

    def cancel_in_refine():
        return bool(seen2) and seen2[-1].phase == "refine"

    seen2 = []
    with pytest.raises(Cancelled, match="refining level"):
        _run(textured, classifier, progress=seen2.append, cancel=cancel_in_refine)


def test_a_region_above_the_budget_is_carried_up_with_its_detail_and_says_so(textured, classifier):
    rgb, src, tgt = textured
    config = make_config("tiny", "position", max_refine_pixels=5000)  # only level 0 may be searched
    result = _run(textured, classifier, config=config)
    levels = [[level.width, level.height] for level in result.report.levels]
    assert result.report.refine.searched == levels[:1] and result.report.refine.carried == levels[1:]
    assert any("max_refine_pixels" in note for note in result.report.notes)
    assert result.variants[0].shape[:2] == (result.region.height, result.region.width)
    # carried matches copy the photo's pixels: far more detail than the level-0 result enlarged
    from PIL import Image
    ys, xs = result.region.slices
    first = result.report.levels[0]
    small = Image.fromarray(rgb[ys, xs]).resize((first.width, first.height), Image.Resampling.LANCZOS)
    enlarged = np.array(rgb)
    enlarged[ys, xs] = np.asarray(small.resize((result.region.width, result.region.height), Image.Resampling.BICUBIC))
    assert _detail(result.composites[0], tgt) > 2 * _detail(enlarged, src)


@pytest.mark.parametrize("box", [(70, 40, 190, 130), (0, 0, 97, 61), (143, 100, 240, 180)])
def test_the_holes_surroundings_hold_the_region_exactly_on_its_own_level_grid(textured, box):
    from magic_engine.inputs import prepare_inputs
    from magic_engine.pyramid import levels_for, resize
    from magic_engine.region import Box
    from magic_engine.synthesis import _surroundings

    rgb, src, tgt = textured
    blocks = np.kron(np.random.default_rng(0).integers(0, 255, (45, 60, 3)), np.ones((4, 4, 1))).astype(np.uint8)
    inputs = prepare_inputs(blocks, src, tgt, 10 ** 8)  # 4 px blocks: a half-pixel shift shows
    region = Box(*box)  # inside the photo, at its top-left corner, at its bottom-right corner
    level = levels_for(region.width, region.height, 48, 32)[0]
    around = _surroundings(inputs, region, level, "cpu")
    assert around.photo.shape[-2] > level.height or around.photo.shape[-1] > level.width
    window = around.crop(around.photo, level.height, level.width)
    ys, xs = region.slices
    own = resize(torch.from_numpy(blocks[ys, xs].copy()).permute(2, 0, 1).float() / 255, level).clamp(0, 1)
    assert (window - own).abs().mean() < 0.01  # the same pixels (two resamplers, one grid)
    beside = around.left + (-1 if around.left > 0 else 1)
    off = around.photo[:, around.top:around.top + level.height, beside:beside + level.width]
    assert (off - own).abs().mean() > 5 * (window - own).abs().mean()  # ...while one pixel off is far


def test_starting_images_fill_the_hole_from_surroundings_that_lie_around_the_region():
    from magic_engine.fill import Surroundings
    from magic_engine.init import starting_images
    from magic_engine.masks import dilate
    from magic_engine.pyramid import Level

    # A 16 x 40 region whose own background is a thin rim; around it, a green meadow.
    generator = torch.Generator().manual_seed(3)
    blobs = 0.2 + 0.3 * torch.rand(1, 3, 20, 25, generator=generator)
    meadow = torch.nn.functional.interpolate(blobs, size=(80, 100), mode="bilinear", align_corners=False)[0]
    meadow[1] = (meadow[1] * 2).clamp(0, 1)
    top, left = 32, 30
    source = torch.zeros(16, 40, dtype=torch.bool)
    source[3:13, 3:15] = True
    target = torch.roll(source, 22, dims=1)
    region_photo = meadow[:, top:top + 16, left:left + 40].clone()
    region_photo[:, source] = torch.tensor([0.9, 0.1, 0.1])[:, None]  # the red object
    frame = Surroundings(meadow.clone(), top, left)
    frame.photo = frame.paste(region_photo)
    free = dilate(source | target, 2)
    starts, _ = starting_images("copy", region_photo, source, target, free, Level(40, 16, 1.0), 2, 0.0, 0.0,
                                lambda pixels: pixels, torch.Generator().manual_seed(0), footprint=dilate(source, 2),
                                surroundings=frame)
    hole = dilate(source, 2) & free & ~target  # what the object leaves behind
    assert starts.shape == (2, 3, 16, 40)
    assert torch.equal(starts[:, :, ~free], region_photo[:, ~free].expand(2, -1, -1))  # the region's own pixels
    for start in starts:
        assert (start[:, hole].mean(1) - meadow.mean((1, 2))).abs().max() < 0.08  # meadow, no red left
        assert torch.allclose(start[:, target], region_photo[:, source], atol=1e-5)  # the object moved exactly


def test_a_cut_out_object_moved_leaves_transparency_and_keeps_its_own_alpha(scene, classifier):
    # An object cut out onto a transparent layer: the red disc with a soft edge, nothing
    # else visible (the colours under the transparency are the striped photo's).
    rgb, src, _ = scene
    height, width = src.shape
    yy, xx = np.mgrid[:height, :width]
    distance = np.hypot(yy - height // 2, xx - width // 4)
    radius = height // 5
    alpha = (np.clip(radius + 1 - distance, 0, 1) * 255).astype(np.uint8)  # 1 px soft edge
    alpha[:4, :] = 128  # a half-transparent band far from the edit
    selection = distance <= radius + 4  # the designer's selection takes transparent margin along
    target = np.roll(selection, width // 2, axis=1)
    result = synthesize(np.dstack([rgb, alpha]), selection, target, make_config("tiny", "position"),
                        classifier=classifier, device=TEST_DEVICE, seed=0)
    out_alpha = result.composites[0][..., 3]
    assert (out_alpha[result.edit_mask == 0] == alpha[result.edit_mask == 0]).all()
    # the place the object left is transparent, as the layer around it was
    moved_away = selection & ~target
    assert out_alpha[moved_away].max() <= 8
    # the object arrives with its own alpha: opaque inside, soft at the edge, clear beyond it
    moved_alpha = np.roll(alpha, width // 2, axis=1)
    moved_alpha[:4, :] = alpha[:4, :]
    assert np.abs(out_alpha.astype(int) - moved_alpha).max() <= 8
