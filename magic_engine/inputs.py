"""Turn what callers hand us (paths, PIL images, numpy arrays) into checked
arrays, with a clear error for everything MAGIC cannot use.

Masks are thresholded at 50 %; a soft source mask is also kept as the
object's matte (matte.py), and the caller is told either through `notes`,
which end up in the run's report. Needs no torch: the command-line
client reads the files it sends with `read_rgba` and `mask_values`, so a
file means the same whether the engine or a client opens it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from magic_common.limits import MASK_INSIDE, MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE

from .errors import InputError

MIN_BACKGROUND_FRACTION = 0.01
NOISE = 2  # a mask value this close to black or white is a compressed file's noise, not a soft edge


@dataclass
class PreparedInput:
    rgb: np.ndarray  # (H, W, 3) uint8
    alpha: np.ndarray | None  # (H, W) uint8, or None for opaque inputs
    source: np.ndarray  # (H, W) bool
    target: np.ndarray  # (H, W) bool
    source_matte: np.ndarray | None = None  # (H, W) uint8: a soft source mask's values; None for a hard one
    notes: list = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.rgb.shape[0]

    @property
    def width(self) -> int:
        return self.rgb.shape[1]


def _open(path, what: str, max_pixels: int) -> Image.Image:
    """The file's pixels as displayed (EXIF orientation applied: a portrait phone
    photo and masks drawn over it line up). The size is checked from the header,
    before anything is decoded."""
    try:
        img = Image.open(path)
    except FileNotFoundError:
        raise InputError(f"the {what} {path} does not exist") from None
    except Image.DecompressionBombError as exc:
        raise InputError(f"{what} {path} is too large to open safely ({exc})") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{what} {path} is not an image Pillow can read ({exc})") from None
    _check_pixel_count(img.width, img.height, f"{what} {path}", max_pixels)
    try:
        img.load()
        return ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InputError(f"{what} {path} is damaged or cut short and cannot be decoded ({exc})") from None


def _check_pixel_count(width: int, height: int, what: str, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise InputError(
            f"{what} is {width}x{height} px ({width * height / 1e6:.0f} MP); the limit is "
            f"{max_pixels / 1e6:.0f} MP. Crop it to the area around the object, or scale it down, first."
        )


def _to_array(value, what: str, max_pixels: int) -> np.ndarray:
    if isinstance(value, (str, os.PathLike)):
        value = _open(value, what, max_pixels)
    if isinstance(value, Image.Image):
        _check_pixel_count(value.width, value.height, what, max_pixels)
        return _pil_to_array(value)
    if isinstance(value, np.ndarray):
        return value
    raise InputError(f"{what} must be a path, a PIL image or a numpy array, not {type(value).__name__}")


def _pil_to_array(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img).astype(np.float64)
        return arr / (65535.0 if img.mode.startswith("I") else 1.0)
    if img.mode not in ("L", "LA", "RGB", "RGBA") or "transparency" in img.info:  # palette or colour-key alpha
        img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    return np.asarray(img)


def _to_uint8(arr: np.ndarray, what: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        return (arr.astype(np.uint32) * 255 + 32767) // 65535
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise InputError(f"{what} contains NaN or infinite values")
        return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    raise InputError(f"{what} has unsupported pixel type {arr.dtype}; use uint8, uint16 or float in [0, 1]")


def load_image(value, max_pixels: int = MAX_IMAGE_PIXELS):
    """-> (rgb uint8 (H,W,3), alpha uint8 (H,W) or None)."""
    arr = _to_array(value, "image", max_pixels)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    height, width = arr.shape[:2]
    _check_pixel_count(width, height, "image", max_pixels)
    if min(height, width) < MIN_IMAGE_SIDE:
        raise InputError(f"image is {width}x{height} px; MAGIC needs at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} px")
    arr = _to_uint8(arr, "image")
    channels = arr.shape[2]
    rgb = arr[:, :, :3] if channels >= 3 else np.repeat(arr[:, :, :1], 3, axis=2)
    alpha = arr[:, :, -1] if channels in (2, 4) else None
    if alpha is not None and (alpha == 255).all():
        alpha = None
    return np.ascontiguousarray(rgb), None if alpha is None else np.ascontiguousarray(alpha)


def read_rgba(path, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """The image file at `path` as uint8 (H, W, 4), opaque where it has no alpha."""
    rgb, alpha = load_image(path, max_pixels)
    alpha = np.full(rgb.shape[:2], 255, np.uint8) if alpha is None else alpha
    return np.ascontiguousarray(np.dstack([rgb, alpha]))


def load_mask(value, what: str, shape: tuple, notes: list, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """-> bool (H, W): `mask_values` thresholded at 50 % (MASK_INSIDE); soft pixels are noted."""
    values = mask_values(value, what, shape, max_pixels)
    soft = _soft_pixels(values)
    if soft:
        notes.append(f"{what} had {soft} soft (grey) pixels; thresholded at 50 %")
    return values >= MASK_INSIDE


def load_source(value, shape: tuple, notes: list, max_pixels: int = MAX_IMAGE_PIXELS,
                cut_out: bool = False) -> tuple:
    """-> (bool (H, W): the object, where the source mask is 50 % or more; uint8 (H, W)
    matte, or None): a soft source mask (a feathered selection, Foreground Select's)
    is also the object's opacity, as GIMP's own cut and paste takes it. Not on a
    `cut_out` layer, whose own alpha carries the object's soft edge (transparency.py),
    nor where the mask is soft only as antialiasing is (a pixel along its outline) or
    as a compressed file's noise is (within 2 of black or white): those are thresholded."""
    values = mask_values(value, "source mask", shape, max_pixels)
    inside, soft = values >= MASK_INSIDE, _soft_pixels(values)
    if cut_out or not soft or _hard_but_for_its_edge(values, inside):
        return load_mask(values, "source mask", shape, notes, max_pixels), None
    notes.append(f"source mask had {soft} soft (grey) pixels: the object is where it is 50 % or "
                 f"more, and its soft edge is the object's opacity at the new place")
    return inside, values


def _hard_but_for_its_edge(values: np.ndarray, inside: np.ndarray) -> bool:
    """Whether every soft pixel of a mask is antialiasing (next to its 50 % outline) or noise."""
    soft = (values > NOISE) & (values < 255 - NOISE)
    padded = np.pad(inside, 1, mode="edge")
    height, width = inside.shape
    neighbours = [padded[1 + dy:1 + dy + height, 1 + dx:1 + dx + width] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    outline = np.logical_or.reduce(neighbours) & ~np.logical_and.reduce(neighbours)
    return not (soft & ~outline).any()


def _soft_pixels(values: np.ndarray) -> int:
    return int(np.count_nonzero((values > 0) & (values < 255)))


def mask_values(value, what: str, shape: tuple, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """-> uint8 (H, W), 0..255, before the threshold. One colour all over with a
    varying alpha (a selection exported as a coloured layer) gives its alpha; a
    colour mask the mean of its channels; 16-bit and float masks are scaled, not
    clipped."""
    arr = _to_array(value, what, max_pixels)
    if arr.ndim == 3:
        colour = arr[:, :, :-1] if arr.shape[2] in (2, 4) else arr[:, :, :3]
        if colour.shape[2] < arr.shape[2] and _one_colour(colour) and arr[:, :, -1].min() != arr[:, :, -1].max():
            arr = arr[:, :, -1]  # one colour with a varying alpha: the alpha is the mask
        else:
            arr = colour.astype(np.float32).mean(axis=2).astype(arr.dtype)
    if arr.ndim != 2:
        raise InputError(f"{what} must be a single-channel (H, W) array or image, got shape {arr.shape}")
    if arr.shape != tuple(shape):
        raise InputError(
            f"{what} is {arr.shape[1]}x{arr.shape[0]} px but the image is {shape[1]}x{shape[0]} px; "
            f"masks must have the image's size"
        )
    return _to_uint8(arr, what)


def _one_colour(colour: np.ndarray) -> bool:
    """Whether every pixel of (H, W, C) `colour` is the same colour."""
    return bool((colour == colour[:1, :1]).all())


def prepare_inputs(image, source_mask, target_mask, max_pixels: int = MAX_IMAGE_PIXELS) -> PreparedInput:
    rgb, alpha = load_image(image, max_pixels)
    shape = rgb.shape[:2]
    notes: list = []
    source, source_matte = load_source(source_mask, shape, notes, max_pixels, cut_out=alpha is not None)
    target = load_mask(target_mask, "target mask", shape, notes, max_pixels)
    if not source.any():
        raise InputError("source mask is empty: select the object (or area) to move or reshape")
    if not target.any():
        raise InputError("target mask is empty or lies outside the image: mark where the object should be")
    background = 1.0 - np.count_nonzero(source) / source.size
    if background < MIN_BACKGROUND_FRACTION:
        raise InputError(
            f"source mask covers {100 * (1 - background):.1f} % of the image; MAGIC needs some background "
            f"around the object to learn from"
        )
    return PreparedInput(rgb=rgb, alpha=alpha, source=source, target=target, source_matte=source_matte, notes=notes)
