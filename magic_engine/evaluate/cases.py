"""Evaluation cases: one folder per case, as described in examples/README.md.

    <name>/image.jpg | image.png   the photo (RGB; an alpha channel is dropped)
    <name>/source.png              8-bit mask, white (>= 128) = the object as it is (grey: its soft edge)
    <name>/target.png              8-bit mask, white = where the object should be
    <name>/case.json               {"mode": "position" | "shape" | "scene",
                                    "description": "...", "source": "provenance + licence"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from magic_common.limits import MASK_INSIDE

from ..config import MODES
from ..errors import InputError

IMAGE_NAMES = ("image.png", "image.jpg", "image.jpeg")


@dataclass
class Case:
    name: str
    folder: Path
    image: np.ndarray  # uint8 (H, W, 3)
    source: np.ndarray  # bool (H, W)
    target: np.ndarray  # bool (H, W)
    mode: str
    source_values: np.ndarray | None = None  # uint8 (H, W): source.png as it is (a soft edge is a matte)
    description: str = ""
    provenance: str = ""


def _read_image(path: Path, what: str, mode: str) -> np.ndarray:
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert(mode))
    except FileNotFoundError:
        raise InputError(f"{what} is missing: {path}") from None
    except OSError as exc:
        raise InputError(f"{what} {path} is not an image Pillow can read ({exc})") from None


def load_case(folder: Path) -> Case:
    """Read and check one case folder; InputError names what is wrong."""
    folder = Path(folder)
    images = [folder / n for n in IMAGE_NAMES if (folder / n).is_file()]
    if not images:
        raise InputError(f"case {folder} has no photo: expected one of {', '.join(IMAGE_NAMES)}")
    if len(images) > 1:
        raise InputError(f"case {folder} has more than one photo ({', '.join(p.name for p in images)}); keep one")
    rgb = _read_image(images[0], "photo", "RGB")
    masks, values = {}, {}
    for name in ("source", "target"):
        mask = _read_image(folder / f"{name}.png", f"{name} mask", "L")
        if mask.shape != rgb.shape[:2]:
            raise InputError(f"case {folder}: {name}.png is {mask.shape[1]}x{mask.shape[0]} px but the photo "
                             f"is {rgb.shape[1]}x{rgb.shape[0]} px; masks must match the photo")
        masks[name], values[name] = mask >= MASK_INSIDE, mask
        if not masks[name].any():
            raise InputError(f"case {folder}: {name}.png has no white (object) pixels")
    info_path = folder / "case.json"
    try:
        info = json.loads(info_path.read_text())
    except FileNotFoundError:
        raise InputError(f"case {folder} has no case.json (it names the mode: {', '.join(MODES)})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{info_path} is not valid JSON: {exc}") from None
    mode = info.get("mode")
    if mode not in MODES:
        raise InputError(f"{info_path}: mode must be one of {', '.join(MODES)}, got {mode!r}")
    return Case(name=folder.name, folder=folder, image=rgb, source=masks["source"], target=masks["target"],
                mode=mode, description=str(info.get("description", "")), provenance=str(info.get("source", "")),
                source_values=values["source"])


def find_cases(root: Path, names=None) -> list:
    """All cases under `root` (a case folder itself, or a folder of case folders), sorted by name.
    `names`: keep only these case names (an unknown name is an error)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"cases folder not found: {root}")
    if (root / "case.json").is_file():
        folders = [root]
    else:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "case.json").is_file())
    if names:
        known = {f.name: f for f in folders}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InputError(f"no case named {', '.join(unknown)} in {root}; there are: "
                             f"{', '.join(known) or 'none'}")
        folders = [known[n] for n in names]
    if not folders:
        raise InputError(f"no cases in {root}: a case is a folder with image.png|jpg, source.png, "
                         f"target.png and case.json")
    return [load_case(f) for f in folders]
