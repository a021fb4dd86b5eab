"""MAGIC server protocol v1: the one definition both ends import.

A message is a ZeroMQ multipart message:

    [header JSON (UTF-8), buffer 0, buffer 1, ...]

The header is a JSON object with "v": 1 and a "buffers" list that declares
every following frame (name, width, height, channels, nbytes, and "encoding":
"zlib" for a compressed frame). Pixel data is uint8, row-major, channels
interleaved (RGBA for images, one channel for masks), raw or zlib-compressed.
Nothing is pickled, nothing is base64-encoded.

Standard library only (this module runs inside GIMP's Python). See
server/PROTOCOL.md for the operations, events and error codes.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass

from magic_common.limits import MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE  # noqa: F401 - part of the protocol's limits
from magic_common.phases import PHASES  # noqa: F401 - the `phase` of a progress event

from .errors import ProtocolError

PROTOCOL_VERSION = 1

# Requests a client may send (field "op").
OPS = ("hello", "ping", "estimate", "submit", "status", "watch", "cancel", "result", "jobs", "shutdown")

# Header "type" of what the server sends: a reply or error answers one
# request (same "id"); the others are events pushed to a job's watchers.
REPLY = "reply"
ERROR = "error"
EVENTS = ("accepted", "progress", "done", "failed", "cancelled", "heartbeat")

JOB_STATES = ("queued", "running", "done", "failed", "cancelled")

FINAL_STATES = frozenset({"done", "failed", "cancelled"})

ERROR_CODES = {
    "bad_header": "the header frame is not a valid protocol v1 JSON object, or a field is missing or has a wrong type",
    "bad_version": "the message speaks another protocol version",
    "bad_token": "the token is missing or wrong",
    "buffer_mismatch": "the buffer frames do not match what the header declares (count, size, dimensions)",
    "too_large": "the header, an image or the message is larger than this server accepts",
    "unknown_op": "the op is not one of the protocol's operations",
    "unknown_job": "no job with that id (never existed, or its results expired)",
    "invalid_param": "a submit parameter is out of range or not one the server offers",
    # The client library answers this one itself, by sending the image: no person sees it.
    "image_not_held": "the server does not hold the image this submit names by its sha256 (any more); send it",
    "queue_full": "the job queue is full; try again later",
    "not_ready": "the job has not finished yet",
    "job_failed": "the job failed; its results do not exist",
    "job_cancelled": "the job was cancelled; its results do not exist",
    "shutting_down": "the server is stopping and takes no new jobs",
    "forbidden": "this client may not do that (only the user the server runs as may stop it), or its key is no "
                 "longer allowed",
    "internal": "the server hit an unexpected error handling this request (it keeps running)",
    # Codes of failed jobs (event "failed", status "code"), and of a server that could not start:
    "engine_error": "the engine failed while running, or its process died",
    "bad_input": "the engine refused the inputs (an empty mask, an area too small); the message says which",
    "weights_missing": "the classifier's weights file is not there: run the installer (--only weights)",
    "out_of_memory": "the device or the machine ran out of memory: a smaller preset, fewer variants or area",
    "interrupted": "the server stopped while the job was running",
    "input_lost": "the job's inputs could not be read back from the spool after a restart",
}

MAX_REQUEST_HEADER_BYTES = 64 * 1024  # a request header is small: ids, token, params
MAX_BUFFERS = 32  # a result: up to 16 variants + the edit mask
MAX_IMAGE_SIDE = 100_000
DEFAULT_MAX_PIXELS = MAX_IMAGE_PIXELS  # a server's limit unless it is given a lower one

# Job inputs, in this order: name -> channels.
JOB_INPUTS = (("image", 4), ("source_mask", 1), ("target_mask", 1))
JOB_INPUT_BYTES_PER_PIXEL = sum(channels for _, channels in JOB_INPUTS)

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_BUFFER_KEYS = frozenset({"name", "width", "height", "channels", "nbytes"})

# How a frame may be compressed ("encoding" in its declaration; none = raw). zlib at
# level 1 packs a photo's RGBA to 20-40 % at 80-170 MB/s on one laptop core and a mask
# to under 1 %: far faster than a 100 Mbit/s link, far slower than loopback.
ZLIB = "zlib"
ENCODINGS = (ZLIB,)
ZLIB_LEVEL = 1
WORTH_COMPRESSING = 0.9  # a frame is sent compressed only when that saves at least 10 %


def max_frame_bytes(max_pixels: int) -> int:
    """ZMQ_MAXMSGSIZE of a server accepting `max_pixels` images. libzmq
    checks it per frame and silently drops the connection of a peer that
    sends a bigger one, so it is set 25 % above the largest accepted frame
    (the RGBA image): an image somewhat over the limit still gets a clear
    "too_large" error reply, and only absurd frames are cut off."""
    return 5 * max_pixels + 2**20


def is_int(value) -> bool:
    """JSON integer (bool is an int in Python, but not here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool))


@dataclass(frozen=True)
class BufferSpec:
    """Declaration of one raw uint8 frame."""

    name: str
    width: int
    height: int
    channels: int

    @property
    def nbytes(self) -> int:
        return self.width * self.height * self.channels

    def to_json(self) -> dict:
        return {"name": self.name, "width": self.width, "height": self.height,
                "channels": self.channels, "nbytes": self.nbytes}


def progress_event(job_id: str, phase: str, step: int = 0, total: int = 0, eta_s=None, elapsed_s: float = 0.0,
                   queue_position=None, losses=None, **extra) -> dict:
    """The header of a `progress` event (server/PROTOCOL.md §5); `phase` is one of PHASES."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; the protocol's phases are {', '.join(PHASES)}")
    return {"type": "progress", "job": job_id, "phase": phase, "step": step, "total": total, "eta_s": eta_s,
            "elapsed_s": elapsed_s, "queue_position": queue_position, "losses": dict(losses or {}), **extra}


def compressed(data):
    """`data` zlib-compressed, or None where that saves too little to be worth it."""
    packed = zlib.compress(data, ZLIB_LEVEL)
    return packed if len(packed) <= WORTH_COMPRESSING * memoryview(data).nbytes else None


def _decompressed(spec: BufferSpec, frame) -> bytes:
    """A zlib frame -> its spec.nbytes bytes; never inflates past that (a bomb)."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(frame, spec.nbytes)
        complete = inflater.eof and not inflater.unconsumed_tail and not inflater.unused_data
    except zlib.error as exc:
        raise ProtocolError(f"buffer {spec.name!r} is declared zlib but its frame is not zlib data ({exc})",
                            "buffer_mismatch") from None
    if len(data) != spec.nbytes or not complete:
        raise ProtocolError(f"buffer {spec.name!r} inflates to {'more than ' if not complete else ''}{len(data)} "
                            f"bytes but the header declares {spec.nbytes}", "buffer_mismatch")
    return data


def job_input_specs(width: int, height: int) -> list:
    return [BufferSpec(name, width, height, channels) for name, channels in JOB_INPUTS]


@dataclass
class Message:
    header: dict
    buffers: list  # [(BufferSpec, bytes-like)], in frame order

    def buffer(self, name: str):
        for spec, data in self.buffers:
            if spec.name == name:
                return data
        raise KeyError(name)

    def spec(self, name: str) -> BufferSpec:
        for spec, _ in self.buffers:
            if spec.name == name:
                return spec
        raise KeyError(name)


def encode(header: dict, buffers=(), compress: bool = False) -> list:
    """-> frames. `buffers`: sequence of (BufferSpec, bytes-like). The header
    gets "v" and the "buffers" declaration; the data is not copied, except
    with `compress`: then each frame that zlib shrinks enough goes compressed
    (only to a peer that lists "zlib" among its encodings)."""
    header = dict(header)
    header.setdefault("v", PROTOCOL_VERSION)
    declared, frames = [], []
    for spec, data in buffers:
        size = memoryview(data).nbytes
        if size != spec.nbytes:
            raise ProtocolError(f"buffer {spec.name!r} has {size} bytes but {spec.width}x{spec.height}x"
                                f"{spec.channels} needs {spec.nbytes}", "buffer_mismatch")
        declaration = spec.to_json()
        packed = compressed(data) if compress else None
        if packed is not None:
            declaration["encoding"], data = ZLIB, packed
        declared.append(declaration)
        frames.append(data)
    header["buffers"] = declared
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return [text.encode("utf-8")] + frames


def frame_bytes(frame) -> bytes:
    return frame.bytes if hasattr(frame, "bytes") else bytes(frame)


def _frame_view(frame):
    return frame.buffer if hasattr(frame, "buffer") else memoryview(frame)


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_header(raw: bytes, max_bytes: int | None = MAX_REQUEST_HEADER_BYTES) -> dict:
    if max_bytes is not None and len(raw) > max_bytes:
        raise ProtocolError(f"header is {len(raw)} bytes; the limit is {max_bytes}", "too_large")
    if not raw:
        raise ProtocolError("empty header frame (REQ sockets add an empty frame; use a DEALER socket)",
                            "bad_header")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                            parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ProtocolError("header is not UTF-8 text", "bad_header") from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"header is not valid JSON: {exc}", "bad_header") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header must be a JSON object, got {type(header).__name__}", "bad_header")
    version = header.get("v")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r} is not supported; this side speaks "
                            f"version {PROTOCOL_VERSION} (update the plug-in or the server)", "bad_version")
    return header


def parse_buffer_specs(header: dict, max_pixels: int | None = None) -> list:
    declared = header.get("buffers", [])
    if not isinstance(declared, list):
        raise ProtocolError("'buffers' must be a list", "bad_header")
    if len(declared) > MAX_BUFFERS:
        raise ProtocolError(f"{len(declared)} buffers declared; at most {MAX_BUFFERS}", "too_large")
    specs, names = [], set()
    for i, item in enumerate(declared):
        if not isinstance(item, dict) or set(item) - {"encoding"} != _BUFFER_KEYS:
            raise ProtocolError(f"buffers[{i}] must be an object with exactly the keys "
                                f"{', '.join(sorted(_BUFFER_KEYS))} (and optionally encoding)", "bad_header")
        if item.get("encoding", ZLIB) not in ENCODINGS:
            raise ProtocolError(f"buffers[{i}]: encoding must be one of {', '.join(ENCODINGS)} or absent",
                                "bad_header")
        name = item["name"]
        if not isinstance(name, str) or not _NAME_RE.match(name) or name in names:
            raise ProtocolError(f"buffers[{i}] has an invalid or repeated name {name!r}", "bad_header")
        names.add(name)
        for key in ("width", "height", "channels", "nbytes"):
            if not is_int(item[key]) or item[key] < 1:
                raise ProtocolError(f"buffer {name!r}: {key} must be a positive integer", "bad_header")
        width, height, channels = item["width"], item["height"], item["channels"]
        if channels not in (1, 3, 4):
            raise ProtocolError(f"buffer {name!r}: channels must be 1, 3 or 4, got {channels}", "bad_header")
        if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or (max_pixels and width * height > max_pixels):
            limit = f"{max_pixels / 1e6:g} MP" if max_pixels else f"{MAX_IMAGE_SIDE} px a side"
            raise ProtocolError(
                f"buffer {name!r} is {width}x{height} px ({width * height / 1e6:.1f} MP); this server accepts "
                f"at most {limit} and {MAX_IMAGE_SIDE} px a side. Crop to the area around the object or "
                f"scale the image down.", "too_large")
        spec = BufferSpec(name, width, height, channels)
        if item["nbytes"] != spec.nbytes:
            raise ProtocolError(f"buffer {name!r}: nbytes {item['nbytes']} is not width*height*channels "
                                f"= {spec.nbytes}", "buffer_mismatch")
        specs.append((spec, item.get("encoding")))
    return specs


def decode_buffers(header: dict, data_frames, max_pixels: int | None = None) -> list:
    """The frames after the header, checked against its "buffers" declaration
    -> [(BufferSpec, zero-copy view of a raw frame, or a compressed one's bytes)].
    With max_pixels (a server reading a request), the buffers together may declare
    at most a job's inputs of that size (6 bytes a pixel), checked before anything
    is inflated: a few MB of zlib cannot make the server allocate gigabytes."""
    specs = parse_buffer_specs(header, max_pixels)
    if len(data_frames) != len(specs):
        raise ProtocolError(f"the header declares {len(specs)} buffer frame(s) but the message has "
                            f"{len(data_frames)} (truncated or padded message)", "buffer_mismatch")
    declared = sum(spec.nbytes for spec, _ in specs)
    if max_pixels and declared > JOB_INPUT_BYTES_PER_PIXEL * max_pixels:
        raise ProtocolError(f"the buffers declare {declared} bytes in all; a request carries at most "
                            f"{JOB_INPUT_BYTES_PER_PIXEL * max_pixels} (a job's inputs at this server's largest "
                            f"image)", "too_large")
    buffers = []
    for (spec, encoding), frame in zip(specs, data_frames):
        view = _frame_view(frame)
        if encoding == ZLIB:
            buffers.append((spec, _decompressed(spec, view)))
            continue
        if view.nbytes != spec.nbytes:
            raise ProtocolError(f"buffer {spec.name!r} frame has {view.nbytes} bytes but the header declares "
                                f"{spec.width}x{spec.height}x{spec.channels} = {spec.nbytes}", "buffer_mismatch")
        buffers.append((spec, view))
    return buffers


def decode(frames, max_header_bytes: int | None = MAX_REQUEST_HEADER_BYTES,
           max_pixels: int | None = None) -> Message:
    """frames (bytes or zmq.Frame) -> Message; raises ProtocolError with a code.
    Buffers are returned as zero-copy views of the frames."""
    if not frames:
        raise ProtocolError("empty message", "bad_header")
    header = parse_header(frame_bytes(frames[0]), max_header_bytes)
    return Message(header, decode_buffers(header, list(frames[1:]), max_pixels))
