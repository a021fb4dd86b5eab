"""Mask adherence: does the object end up where the target mask says?

A small per-pixel classifier learns "object or background" from the input
photo alone (source mask as labels, colour and texture features). Applied to
a result, it shows where object-like pixels now are; the figure is the IoU of
that prediction with the target mask. It is a two-layer MLP trained with
torch on the CPU in well under a second, independent of the engine's
networks, so it cannot be fooled by the engine optimising against itself.

A two-class classifier calls anything that is not background "object", noise
included. So a pixel also has to look like some pixel of the input's object:
its features must lie within the distance from a bank of the object's pixels
that 99 % of the object's other pixels keep (nearest neighbour, standardised
features). Noise and other novel stuff then count as "not object".
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .features import FEATURE_COUNT, neighbourhoods, pixel_features

HIDDEN_UNITS = 32
TRAINING_STEPS = 250
MAX_TRAINING_PIXELS = 8_000  # half object, half background: the same fit in a fraction of the time
OBJECT_BANK_PIXELS = 2_000  # object pixels kept to judge "looks like the object"
NOVELTY_QUANTILE = 0.99
LEARNING_RATE = 0.01


@contextmanager
def single_thread():
    """Run torch on one thread: these tensors are tiny, and on a busy CPU
    thread hand-offs cost ten times the arithmetic (measured: 0.5 s vs 6 s per fit)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class PixelClassifier:
    network: nn.Module
    feature_mean: torch.Tensor  # standardisation learnt on the input photo
    feature_std: torch.Tensor
    object_bank: torch.Tensor  # (n, features) standardised features of input object pixels
    novelty_radius: float  # farther than this from every bank pixel: not the object
    sizes: tuple  # neighbourhood box sizes of the features (they scale with the image)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """bool (H, W): True where the pixel is classified as object and looks like the input's object."""
        with single_thread(), torch.no_grad():
            features = (pixel_features(rgb, self.sizes) - self.feature_mean) / self.feature_std
            classified = self.network(features)[:, 0] >= 0
            familiar = _nearest_distance(features, self.object_bank) <= self.novelty_radius
        return (classified & familiar).reshape(rgb.shape[:2]).numpy()


def fit_pixel_classifier(rgb: np.ndarray, object_mask: np.ndarray, seed: int = 0,
                         steps: int = TRAINING_STEPS) -> PixelClassifier:
    """Learn object-vs-background on `rgb` with `object_mask` (bool) as labels.

    Both classes weigh the same in the loss, so a small object is not
    drowned by a large background.
    """
    with single_thread():
        return _fit(rgb, object_mask, seed, steps)


def _fit(rgb, object_mask, seed, steps) -> PixelClassifier:
    labels = torch.from_numpy(np.asarray(object_mask, bool).reshape(-1).astype(np.float32))
    positives = float(labels.sum())
    if positives == 0 or positives == labels.numel():
        raise ValueError("the object mask must contain both object and background pixels")
    sizes = neighbourhoods(max(rgb.shape[:2]))
    features = pixel_features(rgb, sizes)
    mean = features.mean(0)
    std = features.std(0).clamp_min(1e-6)
    features = (features - mean) / std
    generator = torch.Generator().manual_seed(seed)
    bank, radius = _object_bank(features[labels > 0], generator)
    keep = _balanced_subset(labels, MAX_TRAINING_PIXELS // 2, generator)
    features, labels = features[keep], labels[keep]
    positives = float(labels.sum())

    network = nn.Sequential(nn.Linear(FEATURE_COUNT, HIDDEN_UNITS), nn.ReLU(), nn.Linear(HIDDEN_UNITS, 1))
    with torch.no_grad():
        for layer in network:
            if isinstance(layer, nn.Linear):
                bound = 1 / layer.in_features ** 0.5
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.zero_()
    weights = torch.where(labels > 0, 0.5 / positives, 0.5 / (labels.numel() - positives))
    loss_fn = nn.BCEWithLogitsLoss(weight=weights, reduction="sum")
    optimizer = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(network(features)[:, 0], labels)
        loss.backward()
        optimizer.step()
    network.eval()
    return PixelClassifier(network, mean, std, bank, radius, sizes)


def _object_bank(object_features: torch.Tensor, generator: torch.Generator):
    """A bank of object pixels, and the nearest-bank distance that NOVELTY_QUANTILE of the
    other object pixels stay within (measured on pixels not in the bank)."""
    order = torch.randperm(len(object_features), generator=generator)
    size = max(1, min(OBJECT_BANK_PIXELS, len(order) // 2))
    bank = object_features[order[:size]]
    held_out = object_features[order[size:2 * size]]
    if len(held_out) == 0:  # a one-pixel object: anything within its own spread
        return bank, float("inf")
    radius = torch.quantile(_nearest_distance(held_out, bank), NOVELTY_QUANTILE).item()
    return bank, radius


def _nearest_distance(features: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """Distance from each row of `features` to its nearest row of `bank`, in chunks to bound memory."""
    return torch.cat([torch.cdist(chunk, bank).min(1).values for chunk in torch.split(features, 8192)])


def _balanced_subset(labels: torch.Tensor, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of at most `per_class` object and `per_class` background pixels (fixed seed):
    a small object keeps all its pixels, and training stays fast on large crops."""
    chosen = []
    for value in (1.0, 0.0):
        indices = torch.nonzero(labels == value)[:, 0]
        if len(indices) > per_class:
            indices = indices[torch.randperm(len(indices), generator=generator)[:per_class]]
        chosen.append(indices)
    return torch.cat(chosen)


def iou(predicted: np.ndarray, expected: np.ndarray) -> float:
    """Intersection over union of two bool masks (1.0 when both are empty)."""
    predicted, expected = np.asarray(predicted, bool), np.asarray(expected, bool)
    union = np.count_nonzero(predicted | expected)
    if union == 0:
        return 1.0
    return np.count_nonzero(predicted & expected) / union


def mask_adherence(classifier: PixelClassifier, result: np.ndarray, target_mask: np.ndarray) -> float:
    """IoU between where `classifier` sees the object in `result` and `target_mask`."""
    return iou(classifier.predict(result), target_mask)
