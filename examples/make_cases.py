"""Rebuild the bundled evaluation cases in examples/cases/ from registry packages.

Three cases come from scikit-image's sample photos (its wheel's
`skimage/data/` folder; scikit-image itself is not a dependency), two from
CC0 wallpapers in Debian packages. Get them once with

    pip download scikit-image==0.26.0 --no-deps -d /tmp/skimage-wheel
    apt-get download budgie-backgrounds        # Debian trixie: budgie-backgrounds_3.0-1_all.deb
    apt-get download lomiri-wallpapers-16.04   # Debian bookworm: lomiri-wallpapers-16.04_20.04.0-2_all.deb

then run

    python examples/make_cases.py --wheel /tmp/skimage-wheel/scikit_image-0.26.0-*.whl \
        --budgie-deb budgie-backgrounds_3.0-1_all.deb --lomiri-deb lomiri-wallpapers-16.04_20.04.0-2_all.deb

Each source is optional: only the cases whose package is given are rebuilt.

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
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4
HERE = Path(__file__).resolve().parent

# Licences as documented in scikit-image 0.26.0, skimage/data/_fetchers.py.
ROCKET_SOURCE = ("scikit-image sample `rocket.jpg` (skimage.data.rocket): launch of DSCOVR on Falcon 9, "
                 "photo by SpaceX, released into the public domain by SpaceX")
WREN_SOURCE = ("Debian package budgie-backgrounds 3.0-1 (trixie), `usr/share/backgrounds/budgie/canyon-wren.jpg`: "
               "a canyon wren, photo by the US National Park Service (EXIF artist \"NPS Photo\"), a US federal "
               "work in the public domain; the package is CC0-1.0 "
               "(debian/copyright: \"Files: * ... License: CC0-1.0\")")
DANDELION_SOURCE = ("Debian package lomiri-wallpapers-16.04 20.04.0-2 (bookworm), "
                    "`usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg`: dandelions in a meadow, photo by "
                    "Clemens Engelhardt, CC0-1.0 (debian/copyright: \"Files: 16.04/seeding_by_Clements_Engelhardt.jpg "
                    "... License: CC0-1.0\")")
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


# Traced at 3840x2160 around the bird's head and neck, down to where the rock hides it.
WREN_POINTS = [
    (1650, 543), (1720, 524), (1780, 511), (1805, 508), (1814, 516), (1802, 523), (1745, 542),  # beak
    (1695, 562), (1662, 578), (1656, 600), (1646, 628), (1634, 660), (1622, 695), (1615, 730),  # throat, breast
    (1612, 770), (1614, 820), (1617, 870), (1620, 915), (1622, 952),
    (1550, 942), (1450, 926), (1360, 912), (1336, 900),  # along the rock's top
    (1344, 878), (1368, 834), (1392, 788), (1414, 742), (1428, 700), (1436, 658), (1444, 622),  # back
    (1458, 588), (1484, 557), (1522, 538), (1564, 528), (1605, 529), (1636, 536),  # crown
]


def wren_outline(dx: float = 0.0, dy: float = 0.0) -> list:
    """The canyon wren's head and neck (3840x2160 photo)."""
    return [(x + dx, y + dy) for x, y in WREN_POINTS]


def dandelion_outline(dx: float = 0.0) -> list:
    """The out-of-focus dandelion at the lower right, head (with the blur of its fluff) and stem (1600x900 photo)."""
    return [("ellipse", (1190 + dx, 594, 1430 + dx, 788)),
            ("polygon", [(1278 + dx, 760), (1298 + dx, 760), (1300 + dx, 900), (1280 + dx, 900)])]


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

def deb_member(deb: Path, name: str) -> bytes:
    """The bytes of `name` (e.g. usr/share/x.jpg) inside a Debian .deb (an ar archive
    holding data.tar.xz), read with the standard library alone."""
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise SystemExit(f"{deb} is not a Debian package (.deb)")
    offset = 8
    while offset + 60 <= len(blob):
        header = blob[offset:offset + 60]
        member = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = blob[offset + 60:offset + 60 + size]
        if member.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as data:
                return data.extractfile("./" + name).read()
        offset += 60 + size + size % 2
    raise SystemExit(f"{deb} has no data.tar member")


def build_budgie_cases(deb: Path):
    """Position at the photo's own resolution (3840x2160): the wren moved along the rock."""
    wren_bytes = deb_member(deb, "usr/share/backgrounds/budgie/canyon-wren.jpg")
    wren = Image.open(io.BytesIO(wren_bytes)).convert("RGB")
    yield ("wren-rock-move", wren_bytes, ".jpg", wren,
           draw_mask(wren.size, [("polygon", wren_outline())]),
           draw_mask(wren.size, [("polygon", wren_outline(dx=-450, dy=-60))]),
           {"mode": "position",
            "description": "Object position at full resolution (3840x2160): move the canyon wren's head and "
                           "neck 450 px left and 60 px up, onto a higher part of the rock; the sky and the "
                           "rock's edge must fill the hole, the feathers must stay sharp.",
            "source": WREN_SOURCE + "; unmodified."})


def build_lomiri_cases(deb: Path):
    """Position on texture: a dandelion moved through the grass (scaled to 1600x900)."""
    photo = Image.open(io.BytesIO(deb_member(deb, "usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg")))
    meadow = photo.convert("RGB").resize((1600, 900), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    meadow.save(buffer, format="JPEG", quality=90)
    yield ("dandelion-grass-move", buffer.getvalue(), ".jpg", meadow,
           draw_mask(meadow.size, dandelion_outline()),
           draw_mask(meadow.size, dandelion_outline(dx=-260)),
           {"mode": "position",
            "description": "Object position on texture: move the dandelion at the lower right (head and stem) "
                           "260 px left through the grass; grass and out-of-focus seed heads must fill the hole.",
            "source": DANDELION_SOURCE + "; scaled from 5312x2988 to 1600x900."})


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
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--wheel", type=Path, help="a scikit-image wheel (.whl) holding skimage/data/")
    where.add_argument("--data-dir", type=Path, help="an unpacked skimage/data/ folder")
    parser.add_argument("--budgie-deb", type=Path, help="budgie-backgrounds_3.0-1_all.deb (Debian trixie)")
    parser.add_argument("--lomiri-deb", type=Path, help="lomiri-wallpapers-16.04_20.04.0-2_all.deb (Debian bookworm)")
    parser.add_argument("--out", type=Path, default=HERE / "cases", help="where the case folders go")
    parser.add_argument("--overlays", type=Path, help="also write <name>.png mask overlays here")
    args = parser.parse_args(argv)

    builders = []
    if args.wheel:
        archive = zipfile.ZipFile(args.wheel)
        builders.append(build_cases(lambda name: archive.read(f"skimage/data/{name}")))
    elif args.data_dir:
        builders.append(build_cases(lambda name: (args.data_dir / name).read_bytes()))
    if args.budgie_deb:
        builders.append(build_budgie_cases(args.budgie_deb))
    if args.lomiri_deb:
        builders.append(build_lomiri_cases(args.lomiri_deb))
    if not builders:
        parser.error("give at least one of --wheel/--data-dir, --budgie-deb, --lomiri-deb")

    for name, image_bytes, suffix, image, source, target, info in (case for b in builders for case in b):
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
