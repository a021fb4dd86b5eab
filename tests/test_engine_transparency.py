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
    background = torch.where(source[None], result, photo)  # the layer without the object
    colours, alphas = keep_transparency(result[None], background[None], alpha, source, target, source & ~target)
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
    colours, alphas = keep_transparency(results, torch.rand(2, 3, 16, 16, generator=generator), torch.ones(16, 16),
                                        source, target, source & ~target)
    assert _close(colours, results) and _close(alphas, torch.ones(2, 16, 16))


def test_a_half_transparent_object_moved_onto_its_old_place_lies_over_the_background_made_there():
    # A half-transparent red pane on an opaque layer, moved 3 px: where it overlaps its
    # old place, what shows through it is the background made there (grey), not itself.
    source = torch.zeros(6, 24, dtype=torch.bool)
    source[2:4, 4:10] = True
    target = torch.roll(source, 3, dims=1)
    alpha = torch.ones(6, 24)
    alpha[source] = 0.5
    photo = torch.zeros(3, 6, 24)
    photo[0, source] = 1.0
    result = torch.where(target[None], torch.tensor([1.0, 0, 0])[:, None, None], photo)
    background = torch.where(source[None], torch.full((3, 6, 24), 0.5), photo)
    colours, alphas = keep_transparency(result[None], background[None], alpha, source, target, source & ~target)
    overlap = source & target
    assert _close(alphas[0][overlap], torch.ones(int(overlap.sum())))
    assert _close(colours[0][:, overlap], torch.tensor([0.75, 0.25, 0.25])[:, None].expand(3, int(overlap.sum())))


def test_a_hole_in_an_opaque_part_of_the_layer_stays_opaque_whatever_lies_farther_away():
    alpha = torch.ones(40, 40)
    alpha[:4] = 0.5  # a half-transparent band far from the hole
    hole = torch.zeros(40, 40, dtype=torch.bool)
    hole[20:30, 15:25] = True
    assert torch.equal(alpha_behind(alpha, hole), alpha)
