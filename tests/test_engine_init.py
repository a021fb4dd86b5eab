"""Starting images: the official noise start and the copy-paste start."""

import numpy as np
import torch

from engine_fixtures import disc_scene
from magic_engine.init import copy_move, fill_holes, starting_images


def _tensors():
    rgb, src, tgt = disc_scene(64, 96)
    image = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    return image, torch.from_numpy(src)[None, None].float(), torch.from_numpy(tgt)[None, None].float(), src, tgt


def test_fill_holes_uses_only_known_pixels_and_keeps_them():
    image = torch.zeros(1, 3, 32, 32)
    image[:, :, :, :16] = 1.0  # left half white, right half black
    known = torch.ones(1, 1, 32, 32)
    known[:, :, 10:20, 2:8] = 0  # hole inside the white half
    image_with_garbage = image.clone()
    image_with_garbage[:, :, 10:20, 2:8] = -5.0
    filled = fill_holes(image_with_garbage, known)
    assert torch.equal(filled[known.expand_as(filled) > 0], image[known.expand_as(image) > 0])
    hole = filled[:, :, 10:20, 2:8]
    assert hole.min() > 0.6  # filled from the white surroundings, not the garbage


def test_copy_move_puts_the_object_in_the_target_and_clears_the_source():
    image, source, target, src, tgt = _tensors()
    out = copy_move(image, source, target)[0].permute(1, 2, 0).numpy()
    red = np.array([0.85, 0.1, 0.1])
    assert np.abs(out[tgt] - red).max(axis=1).mean() < 0.1  # the disc is at the target
    cleared = src & ~tgt
    assert np.abs(out[cleared] - red).max(axis=1).min() > 0.3  # and gone from the source


def test_starting_images_are_seeded_and_differ_between_variants():
    image, source, target, _, _ = _tensors()
    make = lambda kind, seed: starting_images(kind, image, source, target, 3, 0.5, torch.Generator().manual_seed(seed))
    for kind in ("noise", "copy", "input"):
        a, b = make(kind, 1), make(kind, 1)
        assert a.shape == (3, 3, 64, 96) and torch.equal(a, b)
        assert not torch.equal(a[0], a[1])
    noise = make("noise", 1)
    assert abs(noise.std().item() - 0.5) < 0.05 and abs(noise.mean().item()) < 0.05
