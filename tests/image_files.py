"""Hostile and awkward image files for the input tests of both commands."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(path: Path, width: int = 50000, height: int = 50000) -> Path:
    """A 100-byte PNG whose header claims width x height RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + _chunk(b"IEND", b""))
    return path


def truncated_png(path: Path, size=(120, 90)) -> Path:
    """A real PNG with its second half cut off."""
    noise = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(noise).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def portrait_jpeg(path: Path, stored=(120, 90)) -> Path:
    """A JPEG stored landscape (stored width x height) with EXIF orientation 6:
    displayed rotated 90 degrees clockwise, so height x width. Its stored left
    column is red, so the displayed top row is red."""
    pixels = np.full((stored[1], stored[0], 3), (40, 120, 200), np.uint8)
    pixels[:, :10] = (230, 20, 20)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    return path
