"""A layer's transparency through an edit (keep_transparency)."""

import torch

from magic_engine.transparency import alpha_behind, keep_transparency


def _close(a, b):
    return torch.allclose(a, b, atol=1e-5)


def test_the_object_is_laid_over_what_the_layer_holds_at_its_new_place():
    # A 2-row object (opaque top row, half-transparent bottom row) moved 10 px right,
    # onto a place where the layer holds an opaque blue block in its left half and
    # nothing (transparent) in its right half.
    height, width = 6, 24
    source = torch.zeros(height, width, dtype=torch.bool)
    source[2:4, 2:8] = True
    target = torch.roll(source, 10, dims=1)
    alpha = torch.zeros(height, width)
    alpha[2, 2:8], alpha[3, 2:8] = 1.0, 0.5
    alpha[1:5, 12:15] = 1.0  # the blue block
    photo = torch.zeros(3, height, width)
    photo[0, 2:4, 2:8] = 1.0  # the object is red
    photo[2, 1:5, 12:15] = 1.0
    result = photo.clone()  # what the engine returns: the object's colours moved, the hole as it was
    result[:, target] = photo[:, source]
    result[:, source] = 0.5  # the filled hole: grey, but the layer is transparent there
    colours, alphas = keep_transparency(result[None], photo, alpha, source, target, source & ~target)
    colours, alphas = colours[0], alphas[0]
    assert _close(alphas[source], torch.zeros(12))  # the place it left: as around it
    assert _close(alphas[2, 12:18], torch.ones(6))  # opaque row: the object hides the block
    assert _close(colours[:, 2, 12:18], torch.tensor([1.0, 0, 0])[:, None].expand(3, 6))
    # the half-transparent row: over blue it is opaque and half blue, over nothing half opaque and red
    assert _close(alphas[3, 12:15], torch.ones(3)) and _close(alphas[3, 15:18], torch.full((3,), 0.5))
    assert _close(colours[:, 3, 12], torch.tensor([0.5, 0, 0.5]))
    assert _close(colours[:, 3, 16], torch.tensor([1.0, 0, 0]))
    outside = ~(source | target)
    assert torch.equal(alphas[outside], alpha[outside]) and torch.equal(colours[:, outside], result[:, outside])


def test_an_opaque_layer_comes_out_unchanged():
    generator = torch.Generator().manual_seed(0)
    source = torch.zeros(16, 16, dtype=torch.bool)
    source[4:9, 3:7] = True
    target = torch.roll(source, 6, dims=1)
    results = torch.rand(2, 3, 16, 16, generator=generator)
    colours, alphas = keep_transparency(results, torch.rand(3, 16, 16, generator=generator), torch.ones(16, 16),
                                        source, target, source & ~target)
    assert _close(colours, results) and _close(alphas, torch.ones(2, 16, 16))


def test_a_hole_in_an_opaque_part_of_the_layer_stays_opaque_whatever_lies_farther_away():
    alpha = torch.ones(40, 40)
    alpha[:4] = 0.5  # a half-transparent band far from the hole
    hole = torch.zeros(40, 40, dtype=torch.bool)
    hole[20:30, 15:25] = True
    assert torch.equal(alpha_behind(alpha, hole), alpha)
