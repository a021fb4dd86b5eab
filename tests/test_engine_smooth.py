"""Smooth fills: push-pull and the membrane."""

import torch

from magic_engine.smooth import membrane_fill, smooth_fill


def test_smooth_fill_uses_only_known_pixels_and_keeps_them():
    image = torch.zeros(3, 32, 32)
    image[:, :, :16] = 1.0  # left half white, right half black
    known = torch.ones(32, 32, dtype=torch.bool)
    known[10:20, 2:8] = False  # hole inside the white half
    garbage = image.clone()
    garbage[:, 10:20, 2:8] = -5.0
    filled = smooth_fill(garbage, known)
    assert torch.equal(filled[:, known], image[:, known])
    assert filled[:, 10:20, 2:8].min() > 0.6  # filled from the white surroundings, not the garbage


def test_the_membrane_between_two_known_edges_is_a_straight_ramp():
    # Laplace's equation in one direction: between a column of 0 and a column of 1
    # the membrane rises linearly, whatever the start.
    height, width = 40, 101
    image = torch.full((1, height, width), 7.0)
    image[:, :, 0], image[:, :, -1] = 0.0, 1.0
    known = torch.zeros(height, width, dtype=torch.bool)
    known[:, 0] = known[:, -1] = True
    filled = membrane_fill(image, known, torch.ones(height, width, dtype=torch.bool))
    assert (filled[0] - torch.linspace(0, 1, width)).abs().max() < 0.03


def test_a_long_thin_domain_gets_its_ramp_too():
    # A stem's hole 5 px wide and 400 tall, known at its two ends: the membrane is the
    # same ramp, not the ends' mean spread over its middle.
    height, width = 402, 5
    image = torch.zeros(1, height, width)
    image[:, -1] = 1.0
    known = torch.zeros(height, width, dtype=torch.bool)
    known[0] = known[-1] = True
    filled = membrane_fill(image, known, torch.ones(height, width, dtype=torch.bool))
    assert (filled[0] - torch.linspace(0, 1, height)[:, None]).abs().max() < 0.03


def test_the_membrane_keeps_the_known_pixels_and_everything_outside_its_domain():
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(3, 30, 30, generator=generator)
    domain = torch.zeros(30, 30, dtype=torch.bool)
    domain[5:20, 8:25] = True
    known = (torch.rand(30, 30, generator=generator) < 0.1) & domain
    filled = membrane_fill(image, known, domain)
    changed = (filled != image).any(0)
    assert not (changed & (known | ~domain)).any()
    assert changed[domain & ~known].all()
    low, high = image[:, known].amin(1), image[:, known].amax(1)
    inside = filled[:, domain & ~known]  # a membrane never overshoots what it spans
    assert (inside >= low[:, None] - 1e-4).all() and (inside <= high[:, None] + 1e-4).all()
