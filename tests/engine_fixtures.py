"""Small synthetic scenes for engine tests: a red disc on a striped background.

MAGIC_TEST_DEVICE=cuda runs the engine's end-to-end tests on a GPU
(tests/gpu/gpu_check.py does); the default is the CPU.
"""

import os

import numpy as np

TEST_DEVICE = os.environ.get("MAGIC_TEST_DEVICE", "cpu")


def disc(height, width, cy, cx, radius):
    yy, xx = np.mgrid[:height, :width]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2


def disc_scene(height=96, width=128, seed=0):
    """-> (rgb uint8, source mask bool, target mask bool): a red disc on the
    left of a blue/green striped background, the target a disc on the right."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    stripes = ((xx // 6) % 2).astype(np.float32)
    rgb = np.stack([0.1 + 0.05 * stripes, 0.35 + 0.3 * stripes, 0.7 - 0.2 * stripes], axis=2)
    rgb += rng.normal(0, 0.03, rgb.shape)
    source = disc(height, width, height // 2, width // 4, height // 5)
    rgb[source] = [0.85, 0.1, 0.1]
    target = disc(height, width, height // 2, 3 * width // 4, height // 5)
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8), source, target
