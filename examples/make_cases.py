"""Rebuild the bundled evaluation cases in examples/cases/ from registry packages.

Six cases come from scikit-image's sample photos (its wheel's
`skimage/data/` folder; scikit-image itself is not a dependency), nine from
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
One case's source is soft: dandelion-matte-move's, the matte GIMP's
Foreground Select makes of the dandelion from a trimap drawn here:

    python examples/make_cases.py --trimaps /tmp/trimaps
    MATTE_PHOTO=examples/cases/dandelion-grass-move/image.jpg MATTE_TRIMAP=/tmp/trimaps/dandelion-trimap.png \
        MATTE_OUT=/tmp/dandelion-matte.png gimp-console-3.0 -i --batch-interpreter=python-fu-eval -b - --quit \
        < examples/foreground_select.py
    python examples/make_cases.py --lomiri-deb ... --dandelion-matte /tmp/dandelion-matte.png
`--overlays DIR` also writes each photo with its masks drawn on it, to check
that they fit.
"""

from __future__ import annotations

import argparse
import io
import json
import math
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

HUBBLE_SOURCE = ("scikit-image sample `hubble_deep_field.jpg` (skimage.data.hubble_deep_field): the Hubble eXtreme "
                 "Deep Field, NASA, free to use in the public domain")
GRAVEL_SOURCE = ("scikit-image sample `gravel.png` (skimage.data.gravel): Gravel04 from CC0Textures, CC0, rescaled and "
                 "cropped by scikit-image")


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


def dandelion_trimap(size) -> np.ndarray:
    """uint8 (H, W) trimap for Foreground Select (foreground_select.py): the dandelion's
    outline undecided (128), the middle of its head and of its stem certainly the object
    (255), the rest background (0)."""
    trimap = draw_mask(size, dandelion_outline()) // 255 * 128
    core = draw_mask(size, [("ellipse", (1245, 635, 1375, 745)),
                            ("polygon", [(1286, 780), (1291, 780), (1292, 899), (1287, 899)])])
    return np.maximum(trimap, core).astype(np.uint8)


def dandelion_bent(lean: float = -180.0) -> list:
    """The dandelion with its head leaning `lean` px sideways: the stem bends from its
    foot (which stays) to the head; not a stretch or shift of the source. The lean
    takes the head past the stem's foot, so the target's box is wider than the
    source's (at 90 px it was not, and pasting into the box was only a shift)."""
    head = ("ellipse", (1190 + lean, 594, 1430 + lean, 788))
    stem = ("polygon", [(1278 + lean, 760), (1298 + lean, 760), (1300 + 0.35 * lean, 840), (1300, 900),
                        (1280, 900), (1280 + 0.35 * lean, 840)])
    return [head, stem]


def wren_bent(lean: float = 0.4) -> list:
    """The wren's head and neck leaning forward (towards its beak): every point moves right
    by `lean` times its height above the neck's foot (a shear, not a stretch of its box)."""
    foot = max(y for _, y in WREN_POINTS)
    return [(x + lean * (foot - y), y) for x, y in WREN_POINTS]


# scikit-image's hubble_deep_field.jpg (1000x872).
GALAXY = ("ellipse", (100, 372, 148, 424))  # the face-on spiral at the left, with its glow
GALAXY_CROP = (0, 150, 520, 750)  # the photo's left part, around the galaxy and where it goes
STAR_CROP = (440, 330, 1000, 872)  # the right part, around the star and where it goes
STAR_CENTRE = (753, 576)  # the star with diffraction spikes, right of centre


def star_outline(dx: float = 0.0, dy: float = 0.0) -> list:
    """The star's core (radius 15 px) and its eight spikes, as a careful lasso would take
    them: the diagonal ones 54 px long, the others 30 px, each about 7 px wide."""
    x0, y0 = STAR_CENTRE[0] + dx, STAR_CENTRE[1] + dy
    points = []
    for k in range(8):
        angle = math.radians(45 * k)
        length = 54 if k % 2 else 30
        for side in (-1, 1):  # the spike's base on the core, then its tip, each side
            base, tip = angle + side * math.radians(14), (length, side * 3.5)
            if side < 0:
                points.append((x0 + 15 * math.cos(base), y0 + 15 * math.sin(base)))
            points.append((x0 + tip[0] * math.cos(angle) - tip[1] * math.sin(angle),
                           y0 + tip[0] * math.sin(angle) + tip[1] * math.cos(angle)))
            if side > 0:
                points.append((x0 + 15 * math.cos(base), y0 + 15 * math.sin(base)))
    return points
# scikit-image's gravel.png (512x512): one light pebble, upper left.
PEBBLE_POINTS = [(160, 118), (166, 115), (172, 116), (180, 120), (187, 126), (190, 132), (187, 138), (178, 140),
                 (170, 139), (162, 134), (158, 127)]
# budgie-backgrounds' extreme-desert-hike.jpg (3840x2560): the hiker holding a camera, thin legs.
HIKER_POINTS = [(1299, 2089), (1312, 2089), (1317, 2099), (1326, 2107), (1331, 2126), (1334, 2139), (1328, 2150),
                (1331, 2168), (1339, 2183), (1336, 2193), (1321, 2192), (1312, 2173), (1311, 2193), (1299, 2197),
                (1295, 2186), (1294, 2152), (1289, 2140), (1286, 2121), (1290, 2108), (1297, 2100)]
# budgie-backgrounds' tea-gardens.jpg, 1280x960 from (1400, 720): a thin tree on a hazy ridge, outlined
# loosely in ten points.
TEA_CROP = (1400, 720, 2680, 1680)
TEA_TREE_POINTS = [(875, 340), (852, 355), (860, 418), (888, 432), (886, 510), (908, 510), (907, 432), (921, 420),
                   (932, 379), (922, 346)]
# budgie-backgrounds' blue-periwinkle.jpg (3840x2560): the sharp forget-me-not cluster and its stem.
FLOWER_POINTS = [(1820, 1170), (1880, 1138), (1960, 1128), (2060, 1148), (2140, 1168), (2210, 1198), (2248, 1258),
                 (2272, 1330), (2288, 1380), (2272, 1440), (2230, 1462), (2180, 1472), (2120, 1452), (2060, 1442),
                 (2020, 1422), (1960, 1424), (1905, 1420), (1890, 1480), (1905, 1512), (1880, 1545), (1832, 1562),
                 (1792, 1622), (1762, 1664), (1738, 1672), (1718, 1640), (1744, 1560), (1778, 1490), (1796, 1446),
                 (1770, 1436), (1740, 1424), (1722, 1380), (1718, 1320), (1738, 1278), (1788, 1248), (1800, 1210)]
# budgie-backgrounds' oakland-zoo-otters.jpg, its top left 2400x1200: the blue toy under water.
TOY_POINTS = [(470, 262), (500, 228), (545, 215), (575, 228), (630, 215), (690, 195), (760, 175), (850, 168),
              (940, 178), (1010, 196), (1060, 228), (1075, 265), (1060, 300), (1000, 330), (900, 360),
              (800, 392), (700, 412), (600, 410), (525, 380), (482, 335)]


def shifted(points, dx: float, dy: float) -> list:
    return [(x + dx, y + dy) for x, y in points]


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


def _budgie_photo(deb: Path, name: str):
    data = deb_member(deb, f"usr/share/backgrounds/budgie/{name}")
    return data, Image.open(io.BytesIO(data)).convert("RGB")


def _budgie_source(name: str, what: str, change: str) -> str:
    return (f"Debian package budgie-backgrounds 3.0-1 (trixie), `usr/share/backgrounds/budgie/{name}`: {what}; "
            f"the package is CC0-1.0 (debian/copyright: \"Files: * ... License: CC0-1.0\"); {change}.")


def _jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _polygon_move(name: str, data: bytes, suffix: str, image: Image.Image, points: list, shift: tuple,
                  description: str, source: str) -> tuple:
    """A position case: the object outlined by `points` moved by `shift` (dx, dy)."""
    return (name, data, suffix, image,
            draw_mask(image.size, [("polygon", points)]),
            draw_mask(image.size, [("polygon", shifted(points, *shift))]),
            {"mode": "position", "description": description, "source": source})


def build_budgie_hard_cases(deb: Path):
    """Photos with thin parts, textured holes or a structure to continue, at their own pixels."""
    data, desert = _budgie_photo(deb, "extreme-desert-hike.jpg")
    yield _polygon_move(
        "hiker-dune-move", data, ".jpg", desert, HIKER_POINTS, (-200, -120),
        "Small object with thin parts at full resolution (3840x2560): move the hiker holding a camera 200 px "
        "left and 120 px up the dune; the legs must arrive whole, the ridge, the shadows and the sand's grain "
        "must fill the hole.",
        _budgie_source("extreme-desert-hike.jpg", "hikers on a dune", "unmodified"))

    _, tea_garden = _budgie_photo(deb, "tea-gardens.jpg")
    tea = tea_garden.crop(TEA_CROP)
    yield _polygon_move(
        "tea-tree-move", _jpeg_bytes(tea), ".jpg", tea, TEA_TREE_POINTS, (-500, 250),
        "A loose selection across a structure (1280x960): move a thin tree on a hazy ridge 500 px left and 250 px "
        "down onto the tea rows; its trunk must arrive whole, the ridge line and the haze must continue across "
        "the hole without a mound of hill copied into the sky.",
        _budgie_source("tea-gardens.jpg", "a tea garden on hills in the haze",
                       "cropped to 1280x960 px from (1400, 720)"))

    data, periwinkle = _budgie_photo(deb, "blue-periwinkle.jpg")
    yield _polygon_move(
        "flower-stem-move", data, ".jpg", periwinkle, FLOWER_POINTS, (820, -60),
        "Thin stem at full resolution (3840x2560): move the sharp forget-me-not cluster with its hairy stem 820 px "
        "right through the out-of-focus foliage; the stem and the petals' white stars must arrive whole, bokeh "
        "must fill the hole without blotches.",
        _budgie_source("blue-periwinkle.jpg", "forget-me-nots", "unmodified"))

    _, otters = _budgie_photo(deb, "oakland-zoo-otters.jpg")
    water = otters.crop((0, 0, 2400, 1200))
    yield _polygon_move(
        "toy-water-move", _jpeg_bytes(water), ".jpg", water, TOY_POINTS, (1250, 120),
        "Water (2400x1200): move the blurred blue toy under the water 1250 px right, into rippled water; dark "
        "water with its ripples must fill the hole.",
        _budgie_source("oakland-zoo-otters.jpg", "otters at the Oakland Zoo", "cropped to the top left 2400x1200 px"))

    data, wren = _budgie_photo(deb, "canyon-wren.jpg")
    yield ("wren-neck-lean", data, ".jpg", wren,
           draw_mask(wren.size, [("polygon", wren_outline())]),
           draw_mask(wren.size, [("polygon", wren_bent())]),
           {"mode": "shape",
            "description": "Object shape that no stretch of its box gives (3840x2160): the canyon wren's head and "
                           "neck lean forward, the head about 175 px further right, the neck's foot in place.",
            "source": WREN_SOURCE + "; unmodified."})


def build_lomiri_cases(deb: Path, matte_path: Path | None = None):
    """Position on texture: a dandelion moved through the grass (scaled to 1600x900); with
    `matte_path` (Foreground Select's matte of it, foreground_select.py) also the same move
    with that soft selection."""
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
    yield ("dandelion-stem-bent", buffer.getvalue(), ".jpg", meadow,
           draw_mask(meadow.size, dandelion_outline()),
           draw_mask(meadow.size, dandelion_bent()),
           {"mode": "shape",
            "description": "Object shape that no stretch of its box gives: the dandelion's stem bends so that its "
                           "head leans 180 px left while the stem's foot stays.",
            "source": DANDELION_SOURCE + "; scaled from 5312x2988 to 1600x900."})
    if matte_path is not None:
        matte = np.asarray(Image.open(matte_path).convert("L"))
        moved = np.zeros_like(matte)
        moved[:, :-260] = np.where(matte[:, 260:] >= 128, 255, 0)
        yield ("dandelion-matte-move", buffer.getvalue(), ".jpg", meadow, matte, moved,
               {"mode": "position",
                "description": "A soft selection: the dandelion selected with GIMP's Foreground Select (a matte, "
                               "soft where its fluff is blurred) and moved 260 px left; the dark meadow around "
                               "its fluff must not come along.",
                "source": DANDELION_SOURCE + "; scaled from 5312x2988 to 1600x900. The source is the matte "
                          "GIMP 3.0.4's Foreground Select (matting engine) made from make_cases.py's trimap "
                          "(examples/foreground_select.py); the target is its 50 % line moved."})


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


def build_hard_cases(read):
    """Stars, thin spikes and gravel: holes whose texture a smooth fill cannot fake."""
    hubble = Image.open(io.BytesIO(read("hubble_deep_field.jpg"))).convert("RGB")
    # Two crops of the one photo (they share no pixels the edits touch), so the repository holds it once.
    left_field = hubble.crop(GALAXY_CROP)
    dx, dy = -GALAXY_CROP[0], -GALAXY_CROP[1]
    galaxy = (GALAXY[0], tuple(v + d for v, d in zip(GALAXY[1], (dx, dy, dx, dy))))
    moved = (GALAXY[0], tuple(v + d for v, d in zip(galaxy[1], (130, 90, 130, 90))))
    yield ("galaxy-stars-move", _jpeg_bytes(left_field), ".jpg", left_field,
           draw_mask(left_field.size, [galaxy]), draw_mask(left_field.size, [moved]),
           {"mode": "position",
            "description": "Star field: move the face-on spiral galaxy at the left 130 px right and 90 px down; "
                           "the hole must show faint galaxies and stars like the field around it, not a dark smear.",
            "source": HUBBLE_SOURCE + f"; cropped to the box {GALAXY_CROP} (left, top, right, bottom)."})
    right_field = hubble.crop(STAR_CROP)
    dx, dy = -STAR_CROP[0], -STAR_CROP[1]
    yield ("star-spikes-move", _jpeg_bytes(right_field), ".jpg", right_field,
           draw_mask(right_field.size, [("polygon", star_outline(dx, dy))]),
           draw_mask(right_field.size, [("polygon", star_outline(dx - 150, dy + 120))]),
           {"mode": "position",
            "description": "Thin parts in a star field: move the bright star with its eight diffraction spikes "
                           "150 px left and 120 px down; every spike must arrive whole.",
            "source": HUBBLE_SOURCE + f"; cropped to the box {STAR_CROP} (left, top, right, bottom)."})
    gravel = Image.open(io.BytesIO(read("gravel.png"))).convert("RGB")
    yield _polygon_move(
        "pebble-gravel-move", _png_bytes(gravel), ".png", gravel, PEBBLE_POINTS, (220, 210),
        "Coarse texture: move one light pebble 220 px right and 210 px down across the gravel; the hole must be "
        "filled with whole pebbles, not a grey smudge.",
        GRAVEL_SOURCE + "; grey, stored as RGB.")


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
    parser.add_argument("--trimaps", type=Path, help="write the trimaps for foreground_select.py here")
    parser.add_argument("--dandelion-matte", type=Path,
                        help="Foreground Select's matte of the dandelion (with --lomiri-deb: dandelion-matte-move)")
    args = parser.parse_args(argv)

    builders = []
    if args.wheel:
        archive = zipfile.ZipFile(args.wheel)
        read = lambda name: archive.read(f"skimage/data/{name}")  # noqa: E731
    elif args.data_dir:
        read = lambda name: (args.data_dir / name).read_bytes()  # noqa: E731
    if args.wheel or args.data_dir:
        builders += [build_cases(read), build_hard_cases(read)]
    if args.budgie_deb:
        builders += [build_budgie_cases(args.budgie_deb), build_budgie_hard_cases(args.budgie_deb)]
    if args.dandelion_matte and not args.lomiri_deb:
        parser.error("--dandelion-matte builds dandelion-matte-move from the photo in --lomiri-deb: give both")
    if args.lomiri_deb:
        builders.append(build_lomiri_cases(args.lomiri_deb, args.dandelion_matte))
    if args.trimaps:
        args.trimaps.mkdir(parents=True, exist_ok=True)
        Image.fromarray(dandelion_trimap((1600, 900))).save(args.trimaps / "dandelion-trimap.png")
        print(f"{args.trimaps / 'dandelion-trimap.png'}: the trimap for dandelion-matte-move")
    if not builders and not args.trimaps:
        parser.error("give at least one of --wheel/--data-dir, --budgie-deb, --lomiri-deb, --trimaps")

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
