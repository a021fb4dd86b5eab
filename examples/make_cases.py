"""Rebuild the bundled evaluation cases in examples/cases/ from scikit-image's sample photos.

The photos come from the scikit-image wheel (its `skimage/data/` folder);
scikit-image itself is not a dependency. Get the wheel once with

    pip download scikit-image==0.26.0 --no-deps -d /tmp/skimage-wheel

then run

    python examples/make_cases.py --wheel /tmp/skimage-wheel/scikit_image-0.26.0-*.whl

Masks are drawn here as polygons and ellipses fitted by eye to each object
(coordinates are in the photo's pixels). They are rasterised at 4x and
reduced with area averaging, then thresholded, so edges are clean 0/255.
`--overlays DIR` also writes each photo with its masks drawn on it, to check
that they fit.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4
HERE = Path(__file__).resolve().parent

# Licences as documented in scikit-image 0.26.0, skimage/data/_fetchers.py.
ROCKET_SOURCE = ("scikit-image sample `rocket.jpg` (skimage.data.rocket): launch of DSCOVR on Falcon 9, "
                 "photo by SpaceX, released into the public domain by SpaceX")
COFFEE_SOURCE = ("scikit-image sample `coffee.png` (skimage.data.coffee): photo by Rachel Michetti, "
                 "courtesy of Pikolo Espresso Bar, CC0 (no copyright restrictions)")


# --- shapes (photo pixel coordinates) -------------------------------------------------------

def rocket_outline(dx: float = 0.0, dy: float = 0.0) -> list:
    """The Falcon 9 with its payload fairing, without the launch tower behind it."""
    points = [
        (321, 126), (325.5, 128), (329, 134), (331.5, 144), (332.5, 156), (332.5, 174),  # fairing, right
        (332.5, 180), (332.5, 405),  # first stage, right
        (312.5, 405), (312.5, 180),  # first stage, left
        (310.5, 174), (310.5, 156), (311, 144), (313, 134), (316.5, 128),  # fairing, left
    ]
    return [(x + dx, y + dy) for x, y in points]


def cup_outline(stretch_x: float = 1.0, centre_x: float = 290.0) -> list:
    """The espresso cup: rim ellipse, body and handle, as one list of shapes."""
    def sx(x):
        return centre_x + (x - centre_x) * stretch_x

    rim = ("ellipse", (sx(172), 17, sx(407), 208))
    body = ("polygon", [(sx(x), y) for x, y in [
        (172, 112), (175, 160), (184, 210), (198, 245), (222, 272), (258, 286), (300, 287),
        (336, 278), (362, 258), (381, 226), (397, 180), (407, 112)]])
    handle = ("polygon", [(sx(x), y) for x, y in [
        (197, 236), (204, 226), (232, 223), (258, 232), (264, 252), (262, 286), (246, 303),
        (220, 306), (202, 299), (195, 282)]])
    return [rim, body, handle]


def tower_outline(widen_top: float = 0.0) -> list:
    """The left lattice tower; `widen_top` moves its right edge out by that many px at the top,
    tapering to nothing at the bottom."""
    return [(47, 0), (91 + widen_top, 0), (80, 427), (0, 427), (0, 350)]


# --- rasterising ----------------------------------------------------------------------------

def draw_mask(size, shapes) -> np.ndarray:
    """uint8 (H, W) mask, 255 inside any of `shapes` ("polygon", points) / ("ellipse", box)."""
    width, height = size
    canvas = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    pen = ImageDraw.Draw(canvas)
    for kind, geometry in shapes:
        if kind == "polygon":
            pen.polygon([(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in geometry], fill=255)
        elif kind == "ellipse":
            pen.ellipse([v * SUPERSAMPLE for v in geometry], fill=255)
        else:
            raise ValueError(f"unknown shape {kind!r}")
    coverage = np.asarray(canvas.resize((width, height), Image.Resampling.BOX))
    return np.where(coverage >= 128, 255, 0).astype(np.uint8)


def overlay(image: Image.Image, source: np.ndarray, target: np.ndarray) -> Image.Image:
    """Source in red, target in cyan, both half transparent, for checking the fit."""
    rgb = np.asarray(image.convert("RGB")).astype(np.float32)
    for mask, colour in ((source, (255, 40, 40)), (target, (40, 230, 255))):
        m = (mask > 0)[..., None] * 0.45
        rgb = rgb * (1 - m) + np.array(colour, np.float32) * m
    return Image.fromarray(rgb.round().astype(np.uint8))


# --- cases ----------------------------------------------------------------------------------

def build_cases(read):
    """Yield (name, image bytes, image suffix, PIL image, source, target, case.json dict).
    `read(name)` returns the bytes of skimage/data/<name>."""
    # Position: the rocket moved left and up, into empty sky, as if lifting off.
    rocket_bytes = read("rocket.jpg")
    rocket = Image.open(io.BytesIO(rocket_bytes)).convert("RGB")
    yield ("demo-rocket-move", rocket_bytes, ".jpg", rocket,
           draw_mask(rocket.size, [("polygon", rocket_outline())]),
           draw_mask(rocket.size, [("polygon", rocket_outline(dx=-72, dy=-70))]),
           {"mode": "position",
            "description": "Object position: move the rocket (without its launch tower) 72 px left and "
                           "70 px up into the empty sky; the launch tower and sky must fill the hole.",
            "source": ROCKET_SOURCE + "; unmodified."})

    # Shape (non-repetitive object): the cup made 30 % wider.
    coffee = Image.open(io.BytesIO(read("coffee.png"))).convert("RGB")
    yield ("coffee-cup-wider", _png_bytes(coffee), ".png", coffee,
           draw_mask(coffee.size, cup_outline()),
           draw_mask(coffee.size, cup_outline(stretch_x=1.3)),
           {"mode": "shape",
            "description": "Object shape: the espresso cup (rim, body, handle) widened by 30 % about its "
                           "centre; the saucer and spoon around it stay.",
            "source": COFFEE_SOURCE + "; unmodified."})

    # Scene shape (repetitive structure): the lattice tower made wider at the top.
    tower = rocket.crop((0, 0, 240, 427))
    yield ("tower-lattice-wider", _png_bytes(tower), ".png", tower,
           draw_mask(tower.size, [("polygon", tower_outline())]),
           draw_mask(tower.size, [("polygon", tower_outline(widen_top=45))]),
           {"mode": "scene",
            "description": "Repetitive scene shape: the lattice launch tower made 45 px wider at the top "
                           "(tapering to its old width at the bottom); new lattice must fill the sky there.",
            "source": ROCKET_SOURCE + "; cropped to the left 240 px."})


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--wheel", type=Path, help="a scikit-image wheel (.whl) holding skimage/data/")
    where.add_argument("--data-dir", type=Path, help="an unpacked skimage/data/ folder")
    parser.add_argument("--out", type=Path, default=HERE / "cases", help="where the case folders go")
    parser.add_argument("--overlays", type=Path, help="also write <name>.png mask overlays here")
    args = parser.parse_args(argv)

    if args.wheel:
        archive = zipfile.ZipFile(args.wheel)

        def read(name):
            return archive.read(f"skimage/data/{name}")
    else:
        def read(name):
            return (args.data_dir / name).read_bytes()

    for name, image_bytes, suffix, image, source, target, info in build_cases(read):
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("image.*"):
            old.unlink()
        (folder / f"image{suffix}").write_bytes(image_bytes)
        Image.fromarray(source).save(folder / "source.png", optimize=True)
        Image.fromarray(target).save(folder / "target.png", optimize=True)
        (folder / "case.json").write_text(json.dumps(info, indent=2) + "\n")
        if args.overlays:
            args.overlays.mkdir(parents=True, exist_ok=True)
            overlay(image, source, target).save(args.overlays / f"{name}.png")
        print(f"{folder}: {image.width}x{image.height}, source {np.count_nonzero(source)} px, "
              f"target {np.count_nonzero(target)} px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
