"""The side-by-side crops of docs/evaluation.md, at 100 % and 200 %, from `make evaluate` output.

    python docs/make_crops.py out/evaluate docs/images [STANDARD_DEMO]

For each picture listed in CROPS: the photo, MAGIC's first variant and the
paste + heal baseline of its case, side by side, cropped to the given box of
the photo (its own pixels, no scaling) and, under them, the zoom box at 200 %
(nearest neighbour, so every pixel shows).

With STANDARD_DEMO, the output folder of
`python -m magic_engine demo --preset standard`, also the presets side by
side on the demo photo: the photo, `preview`'s first result (from the
evaluation) and `standard`'s (crop-demo-presets.jpg).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]

# picture name -> (case, crop box at 100 %, zoom box at 200 %), in the photo's pixels
CROPS = {
    "demo-rocket-move": ("demo-rocket-move", (190, 40, 400, 427), (255, 250, 375, 410)),
    "wren-rock-move": ("wren-rock-move", (860, 420, 1880, 990), (1330, 560, 1650, 960)),
    "dandelion-grass-move": ("dandelion-grass-move", (880, 520, 1480, 900), (1150, 580, 1450, 800)),
    "tower-lattice-wider": ("tower-lattice-wider", (0, 0, 240, 427), (0, 60, 120, 260)),
    "star-spikes-move": ("star-spikes-move", (95, 180, 380, 430), (250, 185, 380, 310)),
    "galaxy-stars-move": ("galaxy-stars-move", (60, 190, 320, 400), (80, 205, 170, 290)),
    "pebble-gravel-move": ("pebble-gravel-move", (140, 100, 430, 370), (140, 100, 215, 160)),
    "flower-stem-move-hole": ("flower-stem-move", (1650, 1080, 2350, 1700), (1700, 1420, 1950, 1690)),
    "flower-stem-move-object": ("flower-stem-move", (2470, 1020, 3170, 1640), (2520, 1350, 2770, 1620)),
    "hiker-dune-move": ("hiker-dune-move", (1040, 1930, 1380, 2230), (1250, 2070, 1370, 2220)),
    "wren-neck-lean": ("wren-neck-lean", (1280, 440, 2050, 1000), (1820, 460, 2040, 640)),
    "toy-water-move-object": ("toy-water-move", (1680, 250, 2370, 570), (1850, 430, 2100, 560)),
    "toy-water-move-hole": ("toy-water-move", (430, 130, 1120, 450), (450, 300, 700, 430)),
    "dandelion-stem-bent": ("dandelion-stem-bent", (1040, 560, 1480, 900), (1120, 740, 1320, 900)),
    "dandelion-matte-move": ("dandelion-matte-move", (880, 520, 1480, 900), (920, 600, 1070, 790)),
    "tea-tree-move": ("tea-tree-move", (300, 260, 1000, 800), (780, 290, 1000, 530)),
}
LABELS = ("photo", "MAGIC preview #1", "paste + heal")
PRESETS_CASE = "demo-rocket-move"
PRESET_LABELS = ("photo", "MAGIC preview #1", "MAGIC standard #1")
GAP = 8


def _font():
    try:
        return ImageFont.load_default(size=16)
    except (TypeError, OSError):
        return ImageFont.load_default()


def side_by_side(images, box, zoom, labels):
    font = _font()
    crops = [im.crop(box) for im in images]
    zooms = [im.crop(zoom).resize(((zoom[2] - zoom[0]) * 2, (zoom[3] - zoom[1]) * 2), Image.Resampling.NEAREST)
             for im in images]
    width = max(sum(c.width for c in crops), sum(z.width for z in zooms)) + GAP * (len(images) + 1)
    height = 24 + crops[0].height + GAP + 24 + zooms[0].height + GAP
    sheet = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(sheet)
    x = GAP
    for crop, label in zip(crops, labels):
        pen.text((x, 4), f"{label} (100 %)", fill="black", font=font)
        sheet.paste(crop, (x, 24))
        x += crop.width + GAP
    x, y = GAP, 24 + crops[0].height + GAP
    for zoomed, label in zip(zooms, labels):
        pen.text((x, y + 4), f"{label} (200 %)", fill="black", font=font)
        sheet.paste(zoomed, (x, y + 24))
        x += zoomed.width + GAP
    return sheet


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    results, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, (case, box, zoom) in CROPS.items():
        folder = results / case
        if not folder.is_dir():
            print(f"skipping {name}: no {folder}")
            continue
        photo = next((ROOT / "examples" / "cases" / case).glob("image.*"))
        images = [Image.open(p).convert("RGB") for p in (photo, folder / "magic-1.png", folder / "paste-heal.png")]
        path = out / f"crop-{name}.jpg"
        side_by_side(images, box, zoom, LABELS).save(path, quality=90)
        print(f"wrote {path}")
    if len(argv) == 3:
        return _presets(results, Path(argv[2]), out)
    return 0


def _presets(results: Path, standard: Path, out: Path) -> int:
    """crop-demo-presets.jpg: the photo, the evaluation's preview result, the standard demo's."""
    preview = results / PRESETS_CASE / "magic-1.png"
    report = standard / "report.json"
    if not preview.is_file() or not report.is_file():
        print(f"no presets picture: it needs {preview} and {report}")
        return 1
    photo = next((ROOT / "examples" / "cases" / PRESETS_CASE).glob("image.*"))
    run = json.loads(report.read_text(encoding="utf-8"))
    if run["config"]["preset"] != "standard" or run["image_size"] != list(Image.open(photo).size):
        print(f"no presets picture: {standard} holds a {run['config']['preset']!r} run on a "
              f"{run['image_size']} photo, not 'standard' on the demo photo")
        return 1
    images = [Image.open(p).convert("RGB") for p in (photo, preview, standard / "composite_0.png")]
    path = out / "crop-demo-presets.jpg"
    side_by_side(images, *CROPS[PRESETS_CASE][1:], PRESET_LABELS).save(path, quality=90)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
