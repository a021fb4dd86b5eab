"""The terms of the MAGIC objective, each a plain function of tensors.

All images here are batches in ImageNet-normalised space, shape (B, 3, H, W).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _neighbour_differences(x: torch.Tensor):
    """Differences to the right, down and along both diagonals."""
    return (
        x[:, :, :, 1:] - x[:, :, :, :-1],
        x[:, :, 1:, :] - x[:, :, :-1, :],
        x[:, :, 1:, 1:] - x[:, :, :-1, :-1],
        x[:, :, 1:, :-1] - x[:, :, :-1, 1:],
    )


def total_variation(x: torch.Tensor):
    """(TV-L1, TV-L2) as in the official code: TV-L1 is the sum over the four
    directions of the mean absolute difference; TV-L2 the sum of the four
    Euclidean norms taken over the whole batch (not squared, not averaged)."""
    diffs = _neighbour_differences(x)
    tv_l1 = sum(d.abs().mean() for d in diffs)
    tv_l2 = sum(torch.linalg.vector_norm(d) for d in diffs)
    return tv_l1, tv_l2


def l2_prior(x: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of each image's Euclidean norm."""
    return torch.linalg.vector_norm(x.flatten(1), dim=1).mean()


def channel_statistics(feature: torch.Tensor):
    """Per-image, per-channel mean and std (unbiased variance, eps 1e-5)."""
    flat = feature.float().flatten(2)
    mean = flat.mean(dim=2)
    std = (flat.var(dim=2, unbiased=True) + 1e-5).sqrt()
    return mean, std


def feature_statistics_loss(features, reference_stats) -> torch.Tensor:
    """Sum over layers of MSE(mean) + MSE(std) against the input's statistics.

    reference_stats: [(mean (1, C), std (1, C))] per layer, computed once.
    """
    total = 0.0
    for feature, (ref_mean, ref_std) in zip(features, reference_stats):
        mean, std = channel_statistics(feature)
        total = total + F.mse_loss(mean, ref_mean.expand_as(mean)) + F.mse_loss(std, ref_std.expand_as(std))
    return total


PENALTY_MIN_SIDE = 48  # a crop keeps at least this many px a side (the critic's 21 px field, several scores)


def penalty_window(height: int, width: int, fraction: float, generator: torch.Generator | None, device):
    """Rows and columns (two slices) of the square-ish window the gradient penalty is taken on:
    `fraction` of each side (at least PENALTY_MIN_SIDE px), at a random place; the whole
    image for fraction 1."""
    h = min(height, max(PENALTY_MIN_SIDE, round(height * fraction)))
    w = min(width, max(PENALTY_MIN_SIDE, round(width * fraction)))
    top = int(torch.randint(0, height - h + 1, (), device=device, generator=generator))
    left = int(torch.randint(0, width - w + 1, (), device=device, generator=generator))
    return slice(top, top + h), slice(left, left + w)


def critic_loss(critic, real: torch.Tensor, fake: torch.Tensor, penalty_weight: float,
                generator: torch.Generator | None = None, penalty_fraction: float = 1.0):
    """WGAN-GP critic loss, SinGAN style: the norm of the gradient to the
    mixed image is taken over its channels at each pixel, with one
    interpolation factor for the whole batch. `real` may be a single image: BatchNorm statistics of B
    identical copies equal those of one, so the result is the same.

    penalty_fraction < 1 takes the penalty on one random window of the mixed
    images, that fraction of each side: the penalty is a mean over pixels of
    a fully convolutional critic, so a window estimates it, and its double
    backward (most of the update's cost) shrinks with the window's area."""
    real_score = critic(real).mean()
    fake_score = critic(fake).mean()
    alpha = torch.rand((), device=fake.device, generator=generator)
    mixed = alpha * real + (1 - alpha) * fake
    if penalty_fraction < 1:
        rows, cols = penalty_window(*mixed.shape[-2:], penalty_fraction, generator, fake.device)
        mixed = mixed[..., rows, cols]
    mixed = mixed.detach().requires_grad_(True)
    mixed_score = critic(mixed)
    (grad,) = torch.autograd.grad(mixed_score.sum(), mixed, create_graph=True)
    penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
    return fake_score - real_score + penalty_weight * penalty, {
        "critic_real": real_score.detach(),
        "critic_fake": fake_score.detach(),
        "gradient_penalty": penalty.detach(),
    }
