"""Two naive edits that every MAGIC result should beat.

copy_paste: the object's bounding box is cut out, resized to the target
mask's bounding box and pasted wherever the target mask is on. The source
area is left exactly as it was (original pixels, no fill): that is what a
designer gets from a plain copy and paste, and a black fill would be an
artefact no one would ship. So where source and target do not overlap, the
old object stays visible: the mask-adherence figure counts it as object
outside the target, and the background patch figure sees object patches
where background should be.

uniform_noise: every pixel of the edited area is replaced by uniform random
RGB, blended with the same weights the engine uses, so it changes exactly the
pixels the engine is allowed to change. It is the floor: any real edit must
score better on fidelity and adherence.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..region import mask_box


def copy_paste(rgb: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3): `rgb` with the source object's box warped into the target's box."""
    left, top, right, bottom = mask_box(source)
    t_left, t_top, t_right, t_bottom = mask_box(target)
    cut = Image.fromarray(np.ascontiguousarray(rgb[top:bottom, left:right, :3]))
    warped = np.asarray(cut.resize((t_right - t_left, t_bottom - t_top), Image.Resampling.BICUBIC))
    out = np.array(rgb[..., :3])
    box = out[t_top:t_bottom, t_left:t_right]
    paste_here = np.asarray(target, bool)[t_top:t_bottom, t_left:t_right]
    box[paste_here] = warped[paste_here]
    return out


def uniform_noise(rgb: np.ndarray, edit_weights: np.ndarray, seed: int = 0) -> np.ndarray:
    """uint8 (H, W, 3): `rgb` blended towards uniform noise with `edit_weights` (float, 0..1)."""
    noise = np.random.default_rng(seed).integers(0, 256, rgb.shape[:2] + (3,)).astype(np.float32)
    weights = np.asarray(edit_weights, np.float32)[..., None]
    base = rgb[..., :3].astype(np.float32)
    return np.rint(base + (noise - base) * weights).astype(np.uint8)
