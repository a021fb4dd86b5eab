"""Nearest-neighbour patches: how the photo's own texture reaches every pixel MAGIC changes.

Three operations on one image at one scale, all vectorised over pixels:

- `PatchSpace`: 7x7 RGB patches projected on their main PCA directions,
  computed for every pixel at once with one convolution. Distances between
  projections approximate distances between patches at a fraction of the cost.
- `nearest_patches`: for every query pixel, the key pixel whose patch is
  closest. Exact (chunked matrix products) where queries x keys is small;
  PatchMatch (propagation from neighbours, random search around the current
  match) from a starting field otherwise, which costs O(pixels).
- `vote`: every changed pixel becomes the average of what the matched patches
  that cover it say it should be (the "E step" of Wexler et al.'s completion).

A field of matches is a `Matches`: for each query pixel, the flat index of
its key pixel, and the distance. Images are float tensors (C, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

PATCH_SIZE = 7
RADIUS = PATCH_SIZE // 2
# Exact search when queries x keys stays under this; PatchMatch beyond.
EXACT_SEARCH_LIMIT = 4e9
_CHUNK_ELEMENTS = 1 << 25  # one chunk of the distance matrix: 128 MB of float32
_PROPAGATION_STEPS = ((0, 1), (0, -1), (1, 0), (-1, 0), (0, 4), (0, -4), (4, 0), (-4, 0))


def valid_centres(height: int, width: int, device=None) -> torch.Tensor:
    """bool (H, W): pixels whose whole patch lies inside the image (usable as keys)."""
    valid = torch.zeros(height, width, dtype=torch.bool, device=device)
    valid[RADIUS:height - RADIUS, RADIUS:width - RADIUS] = True
    return valid


@dataclass
class PatchSpace:
    """The main PCA directions of an image's patches, as convolution filters."""

    filters: torch.Tensor  # (dims, 3, PATCH_SIZE, PATCH_SIZE)

    @classmethod
    def fit(cls, image: torch.Tensor, allowed: torch.Tensor, dims: int,
            generator: torch.Generator, samples: int = 8192) -> "PatchSpace":
        """PCA of up to `samples` patches of `image` (3, H, W) centred on `allowed` pixels."""
        height, width = image.shape[-2:]
        centres = torch.nonzero((allowed & valid_centres(height, width, allowed.device)).flatten())[:, 0]
        if len(centres) == 0:
            raise ValueError("no patch fits inside the image")
        if len(centres) > samples:
            pick = torch.randperm(len(centres), generator=generator)[:samples].to(centres.device)
            centres = centres[pick]
        patches = gather_patches(image, centres)  # (n, 3 * P * P)
        centred = patches - patches.mean(0, keepdim=True)
        covariance = centred.T @ centred / max(1, len(centred) - 1)
        _, vectors = torch.linalg.eigh(covariance.double())  # ascending eigenvalues
        top = vectors[:, -min(dims, vectors.shape[1]):].flip(1).T.to(image.dtype)
        return cls(top.reshape(-1, 3, PATCH_SIZE, PATCH_SIZE).contiguous())

    @property
    def dims(self) -> int:
        return self.filters.shape[0]

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """(dims, H, W): every pixel's patch in PCA coordinates (edges replicated)."""
        padded = F.pad(image[None], (RADIUS,) * 4, mode="replicate")
        return F.conv2d(padded, self.filters.to(image.device))[0]


def gather_patches(image: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(n, 3*P*P) patches of `image` at flat `centres` (all fully inside), in conv2d order."""
    channels, height, width = image.shape
    offsets = torch.arange(-RADIUS, RADIUS + 1, device=image.device)
    rows = centres // width
    cols = centres % width
    ys = rows[:, None, None] + offsets[None, :, None]
    xs = cols[:, None, None] + offsets[None, None, :]
    flat = (ys * width + xs).reshape(len(centres), -1)  # (n, P*P)
    values = image.reshape(channels, -1)[:, flat]  # (C, n, P*P)
    return values.permute(1, 0, 2).reshape(len(centres), -1)


@dataclass
class Matches:
    """For each query pixel (flat index into the query image), its key pixel and distance."""

    queries: torch.Tensor  # (n,) flat indices into the query image
    keys: torch.Tensor  # (n,) flat indices into the key image
    distances: torch.Tensor  # (n,) squared distances in the patch space


class KeySet:
    """The patches one class of queries may copy: key features and which pixels are allowed."""

    def __init__(self, features: torch.Tensor, allowed: torch.Tensor):
        self.height, self.width = features.shape[-2:]
        self.allowed = (allowed & valid_centres(self.height, self.width, allowed.device)).flatten()
        if not self.allowed.any():
            raise ValueError("no allowed key patch fits inside the image")
        self.features = features.reshape(features.shape[0], -1).T.contiguous()  # (H*W, dims)
        self.indices = torch.nonzero(self.allowed)[:, 0]

    def distance(self, query_features: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Squared distance of each query row to the key at `keys`; inf for keys not allowed."""
        diff = query_features - self.features[keys]
        distances = (diff * diff).sum(1)
        return torch.where(self.allowed[keys], distances, torch.full_like(distances, float("inf")))

    def clamp(self, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Flat key index of (row, col), clamped into the image's valid patch centres."""
        rows = rows.clamp(RADIUS, self.height - 1 - RADIUS)
        cols = cols.clamp(RADIUS, self.width - 1 - RADIUS)
        return rows * self.width + cols


def exact_nearest(query_features: torch.Tensor, keyset: KeySet, max_keys: int | None = None,
                  generator: torch.Generator | None = None):
    """(key flat index, distance) of the nearest allowed key for each query row.
    With more than `max_keys` keys, a random subset of that many is searched."""
    candidates = keyset.indices
    if max_keys is not None and len(candidates) > max_keys:
        pick = torch.randperm(len(candidates), generator=generator)[:max_keys].to(candidates.device)
        candidates = candidates[pick]
    bank = keyset.features[candidates]  # (m, dims)
    bank_sq = (bank * bank).sum(1)
    chunk = max(1, _CHUNK_ELEMENTS // max(1, len(bank)))
    best_keys, best_distances = [], []
    for start in range(0, len(query_features), chunk):
        q = query_features[start:start + chunk]
        d = (q * q).sum(1, keepdim=True) + bank_sq[None] - 2 * (q @ bank.T)
        value, index = d.min(1)
        best_keys.append(candidates[index])
        best_distances.append(value.clamp_min(0))
    return torch.cat(best_keys), torch.cat(best_distances)


def patchmatch(query_features: torch.Tensor, queries: torch.Tensor, query_width: int, query_height: int,
               keyset: KeySet, start_keys: torch.Tensor, iterations: int, generator: torch.Generator,
               preferred: torch.Tensor | None = None, coherence: float = 0.0, window: int | None = None):
    """Improve a starting field of matches by PatchMatch, all queries in parallel.

    query_features: (n, dims) rows for the flat `queries`. Each iteration
    tries the matches of neighbours (shifted back by the step between them)
    and random keys in windows that halve from the key image's size down to
    one pixel, keeping whatever is closer. `preferred` (n,) keys (-1: none)
    count as `coherence` (a fraction) closer than they are, so a known
    correspondence (the moved object) is left only for a clearly better one;
    with `window`, not for a key more than that many pixels (rows or columns)
    away from it. Returns (keys, distances as compared).
    """
    device = queries.device
    discount = 1.0 - coherence
    if preferred is not None:
        has_preferred = preferred >= 0
        preferred_rows, preferred_cols = preferred // keyset.width, preferred % keyset.width

    def score(candidate):
        d = keyset.distance(query_features, candidate)
        if preferred is None:
            return d
        if window is not None:
            far = ((candidate // keyset.width - preferred_rows).abs() > window) | \
                  ((candidate % keyset.width - preferred_cols).abs() > window)
            d = torch.where(has_preferred & far, torch.full_like(d, float("inf")), d)
        return torch.where(candidate == preferred, d * discount, d)

    keys = start_keys.clone()
    distances = score(keys)
    # Where each query pixel's neighbour sits in the `queries` list (-1: not a query).
    slot = torch.full((query_height * query_width,), -1, dtype=torch.long, device=device)
    slot[queries] = torch.arange(len(queries), device=device)
    rows, cols = queries // query_width, queries % query_width
    longest = max(keyset.height, keyset.width)

    def consider(candidate):
        nonlocal keys, distances
        d = score(candidate)
        better = d < distances
        keys = torch.where(better, candidate, keys)
        distances = torch.where(better, d, distances)

    for _ in range(iterations):
        for dy, dx in _PROPAGATION_STEPS:
            ny, nx = rows + dy, cols + dx
            inside = (ny >= 0) & (ny < query_height) & (nx >= 0) & (nx < query_width)
            neighbour = torch.where(inside, slot[(ny * query_width + nx).clamp(0, len(slot) - 1)], -1)
            has = neighbour >= 0
            neighbour_key = keys[neighbour.clamp_min(0)]
            candidate = keyset.clamp(neighbour_key // keyset.width - dy, neighbour_key % keyset.width - dx)
            consider(torch.where(has, candidate, keys))
        radius = longest
        while radius >= 1:
            key_rows, key_cols = keys // keyset.width, keys % keyset.width
            jump = torch.randint(-radius, radius + 1, (2, len(keys)), generator=generator).to(device)
            consider(keyset.clamp(key_rows + jump[0], key_cols + jump[1]))
            radius //= 2
    return keys, distances


def vote(values: torch.Tensor, matches: Matches, query_width: int, query_height: int,
         targets: torch.Tensor, weights: torch.Tensor | None = None,
         query_side: torch.Tensor | None = None, target_side: torch.Tensor | None = None,
         reach: int = RADIUS) -> torch.Tensor:
    """New values (C, len(targets)) for the flat `targets` pixels of the query image.

    Each target pixel averages, over every matched query patch that covers it,
    the key-image pixel that patch places there. `values` (C, Hk, Wk) is the
    key image; `weights` (n,) weigh each query patch (default: equal). With
    `query_side` (n,) and `target_side` (len(targets),) bool, a patch votes only
    for pixels on its own side (an object's patches for the object's pixels).
    `reach` < RADIUS lets only the patches centred that close vote: less
    averaging, so the photo's grain survives (0: each pixel copies its own match).
    Targets covered by no matched patch keep NaN, for the caller to notice.
    """
    channels = values.shape[0]
    key_width = values.shape[-1]
    flat_values = values.reshape(channels, -1)
    device = targets.device
    slot = torch.full((query_height * query_width,), -1, dtype=torch.long, device=device)
    slot[matches.queries] = torch.arange(len(matches.queries), device=device)
    weight_of = weights if weights is not None else torch.ones(len(matches.queries), device=device)
    rows, cols = targets // query_width, targets % query_width
    total = torch.zeros(channels, len(targets), device=device, dtype=values.dtype)
    norm = torch.zeros(len(targets), device=device, dtype=values.dtype)
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            # The query patch centred at (row - dy, col - dx) covers the target with its pixel (dy, dx).
            qy, qx = rows - dy, cols - dx
            inside = (qy >= 0) & (qy < query_height) & (qx >= 0) & (qx < query_width)
            owner = torch.where(inside, slot[(qy * query_width + qx).clamp(0, len(slot) - 1)], -1)
            has = owner >= 0
            owner = owner.clamp_min(0)
            if query_side is not None:
                has = has & (query_side[owner] == target_side)
            key = matches.keys[owner] + dy * key_width + dx
            w = torch.where(has, weight_of[owner], torch.zeros((), device=device, dtype=values.dtype))
            total += flat_values[:, key.clamp(0, flat_values.shape[1] - 1)] * w
            norm += w
    out = total / norm
    return torch.where(norm > 0, out, torch.full_like(out, float("nan")))
