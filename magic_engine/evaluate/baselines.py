"""The edits MAGIC is measured against.

paste_and_heal: what a designer does by hand in GIMP today. The object's
own full-resolution pixels are copied with its selection, pasted and scaled
into the target's box, and the hole left behind (the selection grown by a
few pixels, minus what the paste covers) is healed with a patch-based
inpainter: OpenCV's shift-map inpainting (`cv2.xphoto`, from the
opencv-contrib wheel, installed as the evaluation extra), a fair stand-in
for Resynthesizer's Heal Selection. It is the baseline to beat.

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

from ..errors import MagicError
from ..region import mask_box

INSTALL_HINT = "pip install opencv-contrib-python-headless (or: pip install -e '.[evaluate]')"


class BaselineUnavailable(MagicError):
    """A baseline needs a library that is not installed."""


def _xphoto():
    try:
        import cv2
    except ImportError:
        raise BaselineUnavailable(
            f"the paste + heal baseline needs OpenCV with its contrib modules: {INSTALL_HINT}") from None
    if not hasattr(cv2, "xphoto"):
        raise BaselineUnavailable(f"this OpenCV has no xphoto module (contrib): {INSTALL_HINT}")
    return cv2


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


def pasted_selection(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """bool (H, W): the source's selection scaled into the target's box, where a paste lands."""
    left, top, right, bottom = mask_box(source)
    t_left, t_top, t_right, t_bottom = mask_box(target)
    selection = Image.fromarray(source[top:bottom, left:right].astype(np.float32))
    pasted = np.zeros(source.shape, bool)
    pasted[t_top:t_bottom, t_left:t_right] = np.asarray(
        selection.resize((t_right - t_left, t_bottom - t_top), Image.Resampling.BILINEAR)) >= 0.5
    return pasted


def paste_object(rgb: np.ndarray, source: np.ndarray, target: np.ndarray):
    """The object's pixels, with its selection, scaled into the target's box.
    -> (uint8 (H, W, 3) with the paste, bool (H, W) where pasted pixels are)."""
    left, top, right, bottom = mask_box(source)
    t_left, t_top, t_right, t_bottom = mask_box(target)
    cut = Image.fromarray(np.ascontiguousarray(rgb[top:bottom, left:right, :3]))
    warped = np.asarray(cut.resize((t_right - t_left, t_bottom - t_top), Image.Resampling.BICUBIC))
    pasted = pasted_selection(source, target)
    in_box = pasted[t_top:t_bottom, t_left:t_right]
    out = np.array(rgb[..., :3])
    out[t_top:t_bottom, t_left:t_right][in_box] = warped[in_box]
    return out, pasted


def _soft_paste(rgb: np.ndarray, under: np.ndarray, opacity: np.ndarray, shift: tuple):
    """A soft selection's paste on a move: `rgb` moved by `shift` (dy, dx), over `under`
    with the selection `opacity` (float (H, W)) moved the same way, as GIMP pastes a
    feathered selection. -> (uint8 (H, W, 3), bool (H, W) where it shows)."""
    dy, dx = shift
    height, width = opacity.shape
    moved, alpha = np.zeros_like(rgb[..., :3]), np.zeros_like(opacity)
    ys, xs = slice(max(0, dy), min(height, height + dy)), slice(max(0, dx), min(width, width + dx))
    from_ys, from_xs = slice(max(0, -dy), min(height, height - dy)), slice(max(0, -dx), min(width, width - dx))
    moved[ys, xs], alpha[ys, xs] = rgb[from_ys, from_xs, :3], opacity[from_ys, from_xs]
    out = alpha[..., None] * moved + (1 - alpha[..., None]) * under
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), alpha > 0


def paste_and_heal(rgb: np.ndarray, source: np.ndarray, target: np.ndarray, box, rim: int,
                   opacity: np.ndarray | None = None, shift: tuple | None = None):
    """The hand-made route (module docstring) inside `box` (left, top, right, bottom):
    the photo's own layer is healed where the object was (its selection grown
    by `rim` px), the pasted object goes on top as its own layer would.
    opacity: float (H, W) in [0, 1], a soft selection (a matte): healed wherever it
    is above 0 and, on a move by `shift` (dy, dx; intact.move_shift), pasted with
    that opacity.
    -> (uint8 (H, W, 3), bool (H, W) changed pixels)."""
    cv2 = _xphoto()
    selected = source if opacity is None else opacity > 0
    left, top, right, bottom = box
    hole = cv2.dilate(selected.astype(np.uint8), np.ones((2 * rim + 1, 2 * rim + 1), np.uint8)) > 0
    crop = np.ascontiguousarray(rgb[top:bottom, left:right, 2::-1])  # OpenCV works in BGR
    valid = np.where(hole[top:bottom, left:right], 0, 255).astype(np.uint8)  # 0: pixels to fill
    healed = np.zeros_like(crop)
    cv2.xphoto.inpaint(crop, valid, healed, cv2.xphoto.INPAINT_SHIFTMAP)
    out = np.array(rgb[..., :3])
    region_hole = hole[top:bottom, left:right]
    out[top:bottom, left:right][region_hole] = healed[..., ::-1][region_hole]
    if opacity is not None and shift is not None:
        out, pasted = _soft_paste(rgb, out, opacity, shift)
    else:
        pasted_image, pasted = paste_object(rgb, source, target)
        out[pasted] = pasted_image[pasted]
    return out, pasted | hole
