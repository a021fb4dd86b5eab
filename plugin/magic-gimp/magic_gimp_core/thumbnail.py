"""The dialog's small picture of what MAGIC will do: the layer with the
object tinted red and the target tinted cyan and outlined, so source and
target are seen together (on the canvas only one of them shows at a time).

Inputs are a thumbnail of the layer (RGBA) and both masks at the same
size, one byte per pixel; the output is RGB for a GdkPixbuf.
"""

from __future__ import annotations

from magic_common.limits import MASK_INSIDE

try:
    import numpy
except ImportError:  # pragma: no cover - exercised by tests that hide numpy
    numpy = None

THUMBNAIL_SIDE = 200  # px, the longer side
SOURCE_TINT = (230, 40, 40)
TARGET_TINT = (0, 200, 230)
TINT_OPACITY = 0.45
BACKDROP = 128  # grey behind transparent pixels


def thumbnail_size(width: int, height: int, side: int = THUMBNAIL_SIDE) -> tuple:
    """(w, h) with the longer side `side`, never larger than the layer."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _outline(inside: list, width: int, height: int) -> list:
    """Inside pixels with a 4-neighbour outside (or on the border)."""
    out = [False] * (width * height)
    for i, value in enumerate(inside):
        if not value:
            continue
        x, y = i % width, i // width
        if x == 0 or y == 0 or x == width - 1 or y == height - 1 or not (
                inside[i - 1] and inside[i + 1] and inside[i - width] and inside[i + width]):
            out[i] = True
    return out


def overlay(rgba: bytes, width: int, height: int, source_mask: bytes, target_mask: bytes) -> bytes:
    """RGB bytes: the thumbnail over grey, the source tinted, the target tinted and outlined."""
    count = width * height
    if len(rgba) != 4 * count or len(source_mask) != count or len(target_mask) != count:
        raise ValueError(f"thumbnail buffers do not match {width}x{height}")
    if numpy is not None:
        return _overlay_numpy(rgba, width, height, source_mask, target_mask)
    source = [v >= MASK_INSIDE for v in source_mask]
    target = [v >= MASK_INSIDE for v in target_mask]
    edge = _outline(target, width, height)
    out = bytearray(3 * count)
    for i in range(count):
        alpha = rgba[4 * i + 3] / 255.0
        pixel = [rgba[4 * i + c] * alpha + BACKDROP * (1 - alpha) for c in range(3)]
        for mask, tint in ((source, SOURCE_TINT), (target, TARGET_TINT)):
            if mask[i]:
                pixel = [p * (1 - TINT_OPACITY) + t * TINT_OPACITY for p, t in zip(pixel, tint)]
        if edge[i]:
            pixel = list(TARGET_TINT)
        out[3 * i:3 * i + 3] = bytes(min(255, max(0, round(p))) for p in pixel)
    return bytes(out)


def _overlay_numpy(rgba, width, height, source_mask, target_mask) -> bytes:
    np = numpy
    image = np.frombuffer(rgba, np.uint8).reshape(height, width, 4).astype(np.float32)
    alpha = image[:, :, 3:] / 255.0
    pixel = image[:, :, :3] * alpha + BACKDROP * (1 - alpha)
    source = np.frombuffer(source_mask, np.uint8).reshape(height, width) >= MASK_INSIDE
    target = np.frombuffer(target_mask, np.uint8).reshape(height, width) >= MASK_INSIDE
    for mask, tint in ((source, SOURCE_TINT), (target, TARGET_TINT)):
        pixel[mask] = pixel[mask] * (1 - TINT_OPACITY) + np.array(tint, np.float32) * TINT_OPACITY
    padded = np.pad(target, 1, constant_values=False)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    # The image border counts as outside, as in the pure-Python path.
    interior[0, :] = interior[-1, :] = False
    interior[:, 0] = interior[:, -1] = False
    pixel[target & ~interior] = TARGET_TINT
    return np.clip(np.rint(pixel), 0, 255).astype(np.uint8).tobytes()


def _edges(size: int, parts: int) -> list:
    return [i * size // parts for i in range(parts)]


def downsample_mask(mask: bytes, width: int, height: int, out_width: int, out_height: int) -> bytes:
    """A u8 mask shrunk to out_width x out_height by the maximum of each
    block, so a one-pixel stroke still shows in the thumbnail."""
    if len(mask) != width * height:
        raise ValueError(f"mask has {len(mask)} bytes, expected {width}x{height}")
    xs, ys = _edges(width, out_width), _edges(height, out_height)
    if numpy is not None:
        np = numpy
        full = np.frombuffer(mask, np.uint8).reshape(height, width)
        return np.maximum.reduceat(np.maximum.reduceat(full, ys, axis=0), xs, axis=1).tobytes()
    bounds = list(zip(xs, xs[1:] + [width]))
    out = bytearray()
    for top, bottom in zip(ys, ys[1:] + [height]):
        row = bytearray(out_width)
        for y in range(top, bottom):
            line = mask[y * width:(y + 1) * width]
            for i, (left, right) in enumerate(bounds):
                value = max(line[left:right])
                if value > row[i]:
                    row[i] = value
        out += row
    return bytes(out)
