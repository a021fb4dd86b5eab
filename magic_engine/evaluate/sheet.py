"""Contact sheets: rows of labelled image tiles in one PNG.

    from magic_engine.evaluate.sheet import Tile, make_sheet, mask_overlay
    sheet = make_sheet([[Tile(photo, "input", ["mode: position"]), Tile(result, "variant 1")]],
                       title="demo")
    sheet.save("sheet.png")

Generic on purpose: `make demo` and the evaluation both use it. Every image
is scaled to the same tile height; a tile is as wide as its image or its
text, whichever is wider, so text is never cut off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SOURCE_COLOUR = (255, 64, 64)
TARGET_COLOUR = (0, 220, 255)


@dataclass
class Tile:
    image: object  # numpy uint8 (H, W), (H, W, 3|4) or a PIL image
    label: str = ""
    caption: list = field(default_factory=list)  # lines of smaller text under the image


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _to_pil(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.ndim == 3 and array.shape[2] == 4:  # show transparency on a light grey
        alpha = array[..., 3:].astype(np.float32) / 255
        array = np.rint(array[..., :3] * alpha + 200 * (1 - alpha)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(array)).convert("RGB")


def mask_overlay(image, masks, opacity: float = 0.35) -> np.ndarray:
    """uint8 (H, W, 3): `image` with each (mask, colour) in `masks` tinted and outlined,
    e.g. [(source, SOURCE_COLOUR), (target, TARGET_COLOUR)]."""
    rgb = np.asarray(_to_pil(image)).astype(np.float32)
    masks = [(np.asarray(m) > (0 if np.asarray(m).dtype == bool else 127), np.array(c, np.float32))
             for m, c in masks]
    for mask, colour in masks:
        rgb[mask] = rgb[mask] * (1 - opacity) + colour * opacity
    for mask, colour in masks:  # outlines last, so a mask inside another stays visible
        rgb[mask & ~_erode(_erode(mask))] = colour  # 2 px: still visible when the tile is scaled down
    return np.rint(rgb).astype(np.uint8)


def _erode(mask: np.ndarray) -> np.ndarray:
    """Pixels whose 4 neighbours are all in the mask."""
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return inner


def make_sheet(rows, title: str | None = None, tile_height: int = 220, padding: int = 10,
               font_size: int = 15, background=(255, 255, 255)) -> Image.Image:
    """One image with `rows` (lists of Tile) one under another, `title` on top."""
    label_font, caption_font, title_font = _font(font_size), _font(font_size - 3), _font(font_size + 5)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def text_size(text, font):
        left, top, right, bottom = measure.textbbox((0, 0), text, font=font)
        return right - left, bottom - top

    line_height = text_size("Ag", label_font)[1] + 4
    caption_height = text_size("Ag", caption_font)[1] + 3
    laid_out = []  # per row: (tiles as (tile, scaled image, width)), row height
    for row in rows:
        cells = []
        most_lines = 0
        for tile in row:
            img = _to_pil(tile.image)
            scale = tile_height / img.height
            img = img.resize((max(1, round(img.width * scale)), tile_height), Image.Resampling.LANCZOS)
            widths = [img.width, text_size(tile.label, label_font)[0]]
            widths += [text_size(line, caption_font)[0] for line in tile.caption]
            cells.append((tile, img, max(widths)))
            most_lines = max(most_lines, len(tile.caption))
        height = line_height + tile_height + 4 + most_lines * caption_height
        laid_out.append((cells, height))

    title_height = text_size(title, title_font)[1] + 2 * padding if title else 0
    width = max([sum(w for _, _, w in cells) + padding * (len(cells) + 1) for cells, _ in laid_out] + [
        text_size(title, title_font)[0] + 2 * padding if title else 1])
    height = title_height + sum(h + padding for _, h in laid_out) + padding
    sheet = Image.new("RGB", (width, height), background)
    pen = ImageDraw.Draw(sheet)
    if title:
        pen.text((padding, padding), title, fill=(0, 0, 0), font=title_font)
    y = title_height + padding
    for cells, row_height in laid_out:
        x = padding
        for tile, img, cell_width in cells:
            pen.text((x, y), tile.label, fill=(0, 0, 0), font=label_font)
            sheet.paste(img, (x, y + line_height))
            caption_y = y + line_height + tile_height + 4
            for line in tile.caption:
                pen.text((x, caption_y), line, fill=(60, 60, 60), font=caption_font)
                caption_y += caption_height
            x += cell_width + padding
        y += row_height + padding
    return sheet
