"""A soft source selection is the moved object's matte: its soft edge is mixed again
over the new place's background, not pasted with a rim of the old one."""

import numpy as np
import torch

from engine_fixtures import TEST_DEVICE
from magic_engine import make_config, synthesize
from magic_engine.matte import matte_composite

GREEN = np.array([0.1, 0.8, 0.2], np.float32)
BLUE = np.array([0.15, 0.25, 0.7], np.float32)
YELLOW = np.array([0.8, 0.7, 0.2], np.float32)


def _soft_disc(height, width, cy, cx, core, edge):
    """float (H, W): 1 within `core` px of (cy, cx), falling to 0 over `edge` px more."""
    yy, xx = np.mgrid[:height, :width]
    return np.clip((core + edge - np.hypot(yy - cy, xx - cx)) / edge, 0, 1).astype(np.float32)


def _blue_then_yellow(height, width, rng):
    """A photo whose left half is blue and right half yellow, both grainy."""
    background = np.where(np.arange(width)[None, :, None] < width // 2, BLUE, YELLOW)
    return np.broadcast_to(background, (height, width, 3)) + rng.normal(0, 0.03, (height, width, 3))


def tensor(array):
    """(H, W, 3) numpy -> (3, H, W) float32 torch."""
    return torch.from_numpy(np.ascontiguousarray(array, np.float32)).permute(2, 0, 1)


def test_the_soft_edge_is_mixed_again_over_the_new_background():
    rng = np.random.default_rng(0)
    height, width, shift = 80, 160, 80
    alpha = _soft_disc(height, width, 40, 40, 14, 10)
    old = _blue_then_yellow(height, width, rng)
    grain = rng.normal(0, 0.03, (height, width, 3))
    photo = np.clip(alpha[..., None] * (GREEN + grain) + (1 - alpha[..., None]) * old, 0, 1)
    moved = np.roll(alpha, shift, axis=1)
    source, target = alpha >= 0.5, moved >= 0.5
    new_background = np.clip(YELLOW + rng.normal(0, 0.03, (height, width, 3)), 0, 1)
    pasted = np.where(target[..., None], np.roll(photo, shift, axis=1), new_background).astype(np.float32)
    new_background = new_background.astype(np.float32)

    made = matte_composite(tensor(pasted)[None], tensor(new_background)[None], tensor(photo),
                           torch.from_numpy(alpha), torch.from_numpy(source), torch.from_numpy(target),
                           torch.ones(height, width, dtype=torch.bool))
    made = made[0].permute(1, 2, 0).numpy()
    whole, soft = moved == 1, (moved > 0.02) & (moved < 0.98)
    assert (made[whole] == pasted[whole]).all()  # what the selection holds whole arrives unchanged
    assert (made[moved == 0] == new_background[moved == 0]).all()  # what it leaves out shows the new place
    truth = moved[..., None] * (GREEN + np.roll(grain, shift, axis=1)) + (1 - moved[..., None]) * new_background
    error = np.abs(made - truth).mean(2)[soft]
    pasted_error = np.abs(pasted - truth).mean(2)[soft & target]
    # The soft edge outside the 50 % line comes along too.
    assert (np.abs(made - new_background).mean(2)[soft & ~target] > 0.05).mean() > 0.5
    assert error.mean() < 0.02 and pasted_error.mean() > 0.1, (error.mean(), pasted_error.mean())


def test_a_feather_across_a_hard_edge_is_opacity_as_in_gimp():
    # A hard-edged disc selected with a feathered selection whose 50 % line is its edge:
    # each pixel is the object's or the background's, and the selection says how much of
    # it shows at the new place, as GIMP's paste of a feathered selection does.
    rng = np.random.default_rng(2)
    height, width, shift = 80, 160, 80
    disc = _soft_disc(height, width, 40, 40, 20, 1e-3) > 0.5
    photo = np.where(disc[..., None], GREEN, _blue_then_yellow(height, width, rng)).astype(np.float32)
    feather = _soft_disc(height, width, 40, 40, 14, 12)
    moved = np.roll(feather, shift, axis=1)
    target = moved >= 0.5
    new_background = np.clip(YELLOW + rng.normal(0, 0.03, (height, width, 3)), 0, 1).astype(np.float32)
    carried = np.roll(photo, shift, axis=1)
    pasted = np.where(target[..., None], carried, new_background)

    made = matte_composite(tensor(pasted)[None], tensor(new_background)[None], tensor(photo),
                           torch.from_numpy(feather), torch.from_numpy(feather >= 0.5), torch.from_numpy(target),
                           torch.ones(height, width, dtype=torch.bool))
    made = made[0].permute(1, 2, 0).numpy()
    gimp = moved[..., None] * carried + (1 - moved[..., None]) * new_background
    soft = (moved > 0.02) & (moved < 0.98)
    assert np.abs(made - gimp).mean(2)[soft].mean() < 0.01


def test_a_reshape_brings_only_the_soft_edge_past_its_target_never_the_object():
    # A target in two parts side by side: between them the warp lands on the object
    # itself, which must not be pasted there; only the soft edge may reach past the target.
    rng = np.random.default_rng(4)
    height, width = 80, 160
    alpha = _soft_disc(height, width, 40, 40, 14, 6)
    photo = alpha[..., None] * GREEN + (1 - alpha[..., None]) * _blue_then_yellow(height, width, rng)
    target = np.zeros((height, width), bool)
    target[25:55, 95:105] = target[25:55, 125:135] = True
    background = np.clip(YELLOW + rng.normal(0, 0.03, (height, width, 3)), 0, 1).astype(np.float32)
    result = np.where(target[..., None], GREEN, background).astype(np.float32)
    made = matte_composite(tensor(result)[None], tensor(background)[None], tensor(photo), torch.from_numpy(alpha),
                           torch.from_numpy(alpha >= 0.5), torch.from_numpy(target),
                           torch.ones(height, width, dtype=torch.bool))
    made = made[0].permute(1, 2, 0).numpy()
    gap = np.zeros((height, width), bool)
    gap[25:55, 109:121] = True  # more than the 6 px soft edge from either part
    assert (made[gap] == background[gap]).all()


def test_a_soft_selection_moves_the_object_without_a_rim_of_its_old_background():
    # The whole engine: a green disc with a 10 px soft edge on blue, moved onto yellow.
    rng = np.random.default_rng(1)
    height, width, shift = 96, 192, 96
    alpha = _soft_disc(height, width, 48, 48, 14, 10)
    photo = alpha[..., None] * GREEN + (1 - alpha[..., None]) * _blue_then_yellow(height, width, rng)
    image = (np.clip(photo, 0, 1) * 255).round().astype(np.uint8)
    moved = np.roll(alpha, shift, axis=1)
    config = make_config("preview", "position", iterations=1, mask_net_steps=5)
    results = {}
    for kind, source in (("hard", alpha >= 0.5), ("soft", (alpha * 255).round().astype(np.uint8))):
        result = synthesize(image, source, moved >= 0.5, config, classifier="random:resnet18", device=TEST_DEVICE,
                            seed=0)
        results[kind] = result.composites[0][..., :3].astype(np.float32) / 255
    truth = moved[..., None] * GREEN + (1 - moved[..., None]) * YELLOW
    soft = (moved > 0.02) & (moved < 0.98)
    error = {kind: np.abs(result - truth).mean(2)[soft].mean() for kind, result in results.items()}
    # A hard selection carries a rim of blue onto the yellow; the matte mixes the edge again.
    assert error["soft"] < 0.03 and error["hard"] > 0.07, error
    whole = np.roll((alpha * 255).round() == 255, shift, axis=1)
    assert (results["soft"][whole] == results["hard"][whole]).all()
