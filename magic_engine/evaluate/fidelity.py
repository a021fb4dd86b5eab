"""Patch fidelity: do the result's small patches look like the input's?

Takes every 7x7 RGB patch whose centre lies in a mask, keeps a fixed-seed
random subset, and measures the sliced Wasserstein distance between two such
sets: both are projected on the same fixed random directions, and the sorted
projections (the 1-D distributions) are compared quantile by quantile. The
figure is the root mean square of those quantile gaps, in RGB units of
[0, 1]: 0 for identical patch distributions, larger when textures, colours or
sharpness differ. Lower is better.
"""

from __future__ import annotations

import numpy as np

PATCH_SIZE = 7
MAX_PATCHES = 4096  # per set; keeps the figure cheap and the run time flat
DIRECTIONS = 128
MIN_PATCHES = 16  # fewer than this and the distance is not reported


def patches_in_mask(rgb: np.ndarray, mask: np.ndarray, max_patches: int = MAX_PATCHES,
                    seed: int = 0) -> np.ndarray:
    """float32 (n, 7*7*3) patches of `rgb` (uint8 H, W, 3) centred on True pixels of `mask`.

    Patches must fit inside the image. When there are more than
    `max_patches`, a subset is drawn with `seed`, so the same inputs always
    give the same set.
    """
    half = PATCH_SIZE // 2
    valid = np.zeros(mask.shape, bool)
    valid[half:mask.shape[0] - half, half:mask.shape[1] - half] = True
    rows, cols = np.nonzero(np.asarray(mask, bool) & valid)
    if len(rows) > max_patches:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), max_patches, replace=False))
        rows, cols = rows[keep], cols[keep]
    windows = np.lib.stride_tricks.sliding_window_view(rgb[..., :3], (PATCH_SIZE, PATCH_SIZE), axis=(0, 1))
    # windows[r, c] is the patch whose top-left corner is (r, c), shape (3, 7, 7).
    chosen = windows[rows - half, cols - half]
    return chosen.reshape(len(rows), -1).astype(np.float32) / 255


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: int = DIRECTIONS, seed: int = 0) -> float:
    """Sliced Wasserstein-2 distance between two sets of vectors (rows)."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"patch sizes differ: {a.shape[1]} vs {b.shape[1]}")
    axes = np.random.default_rng(seed).standard_normal((a.shape[1], directions)).astype(np.float32)
    axes /= np.linalg.norm(axes, axis=0, keepdims=True)
    projected_a = np.sort(a @ axes, axis=0)
    projected_b = np.sort(b @ axes, axis=0)
    # Compare both sets at the same quantiles (the sets may differ in size).
    count = min(len(a), len(b))
    quantiles = (np.arange(count) + 0.5) / count
    gap = projected_a[(quantiles * len(a)).astype(int)] - projected_b[(quantiles * len(b)).astype(int)]
    return float(np.sqrt(np.mean(gap * gap)))


def patch_distance(result: np.ndarray, result_mask: np.ndarray, reference: np.ndarray,
                   reference_mask: np.ndarray, seed: int = 0) -> float | None:
    """Sliced Wasserstein distance between the 7x7 patches of `result` inside
    `result_mask` and those of `reference` inside `reference_mask`; None when
    either side has fewer than MIN_PATCHES patches."""
    a = patches_in_mask(result, result_mask, seed=seed)
    b = patches_in_mask(reference, reference_mask, seed=seed + 1)
    if len(a) < MIN_PATCHES or len(b) < MIN_PATCHES:
        return None
    return sliced_wasserstein(a, b, seed=seed)
