"""Checks of every request field before the server acts on it.

Each check raises `RequestError(code, message)`; the server turns that into
an error reply and carries on. Nothing here trusts the client: types are
checked exactly (a JSON `true` is not an integer), ranges are bounded, job
ids must have the server's own format, and no field is ever used as a path.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from magic_client import protocol
from magic_client.protocol import is_int, is_number
from magic_common.choices import ITERATIONS, VARIANTS, WORK_SIZE

# "encodings": what the client accepts for the reply's buffers (protocol.ENCODINGS).
ENVELOPE_FIELDS = frozenset({"v", "token", "op", "id", "buffers", "encodings"})
OP_FIELDS = {
    "hello": frozenset(),
    "ping": frozenset({"jobs"}),
    "estimate": frozenset({"width", "height"}),
    "submit": frozenset({"params", "cancel_if_silent_s", "placement", "image_sha256"}),
    "status": frozenset({"job"}),
    "watch": frozenset({"job"}),
    "cancel": frozenset({"job"}),
    "result": frozenset({"job", "edit_box_only"}),
    "jobs": frozenset(),
    "shutdown": frozenset(),
}
assert set(OP_FIELDS) == set(protocol.OPS)

JOB_ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")  # see jobs.new_job_id
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
REQUEST_ID_RE = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces
MAX_PING_JOBS = 64
SILENCE_RANGE = (1.0, 3600.0)

# Submit parameter -> its inclusive range (the engine's own, magic_common.choices).
INT_PARAMS = {
    "variants": VARIANTS,
    "iterations": ITERATIONS,
    "size": WORK_SIZE,
    "seed": (0, 2**63 - 1),
}
CHOICE_PARAMS = ("mode", "preset", "classifier", "device")


class RequestError(Exception):
    """-> an error reply {"code", "message", **extra}."""

    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def request_id(header: dict):
    """The client's request id if it is well formed, else None (still usable
    to address an error reply)."""
    value = header.get("id")
    return value if isinstance(value, str) and REQUEST_ID_RE.fullmatch(value) else None


def check_envelope(header: dict, token: str | None) -> str:
    """Token, id, op and the set of fields -> op. The token is checked first
    and a wrong one is refused without saying what was wrong; None: no token
    is needed (a CURVE server, whose connections are authenticated by key)."""
    given = header.get("token")
    if token is not None and (not isinstance(given, str) or not hmac.compare_digest(
            given.encode("utf-8", "replace"), token.encode("utf-8"))):
        raise RequestError("bad_token", "request refused")
    if request_id(header) is None:
        raise RequestError("bad_header", "'id' must be a string of 1 to 64 printable ASCII characters")
    op = header.get("op")
    if not isinstance(op, str):
        raise RequestError("bad_header", "'op' must be a string")
    if op not in OP_FIELDS:
        shown = op if len(op) <= 40 else op[:40] + "..."
        raise RequestError("unknown_op", f"unknown op {shown!r}; this server knows {', '.join(protocol.OPS)}")
    unexpected = sorted(set(header) - ENVELOPE_FIELDS - OP_FIELDS[op])
    if unexpected:
        raise RequestError("bad_header", f"unexpected field(s) for op {op!r}: {', '.join(unexpected[:8])}")
    if op != "submit" and header.get("buffers"):
        raise RequestError("buffer_mismatch", f"op {op!r} takes no buffers")
    encodings = header.get("encodings", [])
    if not isinstance(encodings, list) or len(encodings) > 8 or not all(isinstance(e, str) for e in encodings):
        raise RequestError("bad_header", "'encodings' must be a list of encoding names, e.g. [\"zlib\"]")
    return op


def accepts_compressed(header: dict) -> bool:
    """The request's sender takes zlib-compressed buffers in its reply."""
    return protocol.ZLIB in header.get("encodings", [])


def check_flag(header: dict, name: str) -> bool:
    value = header.get(name, False)
    if not isinstance(value, bool):
        raise RequestError("bad_header", f"'{name}' must be true or false")
    return value


def check_job_id(value) -> str:
    if not isinstance(value, str) or not JOB_ID_RE.fullmatch(value):
        raise RequestError("bad_header", "'job' must be a job id as returned by submit (e.g. 20250101-120000-0123abcd)")
    return value


def check_ping_jobs(header: dict) -> list:
    jobs = header.get("jobs", [])
    if not isinstance(jobs, list) or len(jobs) > MAX_PING_JOBS:
        raise RequestError("bad_header", f"'jobs' must be a list of at most {MAX_PING_JOBS} job ids")
    return [check_job_id(job) for job in jobs]


def check_estimate(header: dict, max_pixels: int) -> tuple:
    """The region size an estimate is asked for -> (width, height)."""
    width, height = header.get("width"), header.get("height")
    if not (is_int(width) and is_int(height)):
        raise RequestError("bad_header", "estimate needs 'width' and 'height', integers (the region's size in px)")
    if min(width, height) < protocol.MIN_IMAGE_SIDE or max(width, height) > protocol.MAX_IMAGE_SIDE \
            or width * height > max_pixels:
        raise RequestError("invalid_param", f"a region of {width}x{height} px cannot be submitted here: each side "
                                            f"{protocol.MIN_IMAGE_SIDE}..{protocol.MAX_IMAGE_SIDE} px, at most "
                                            f"{max_pixels} px in all")
    return width, height


@dataclass
class SubmitRequest:
    width: int
    height: int
    image: object  # bytes-like, RGBA; None when the submit names an image the server holds
    source_mask: object
    target_mask: object
    params: dict  # raw, checked by check_params
    cancel_if_silent_s: float | None
    placement: dict | None = None  # where the image (a crop) lies in the client's whole photo
    image_sha256: str | None = None  # the image's sha256 (hex): to keep it, or to find it kept


def check_submit(header: dict, buffers: list) -> SubmitRequest:
    """Shape of a submit: the three job buffers (or, with image_sha256, the two
    masks alone: the image is one the server holds), same size, big enough."""
    digest = header.get("image_sha256")
    if digest is not None and (not isinstance(digest, str) or not SHA256_RE.fullmatch(digest)):
        raise RequestError("bad_header", "'image_sha256' must be 64 lowercase hex digits (the image's sha256)")
    names = [spec.name for spec, _ in buffers]
    expected = [name for name, _ in protocol.JOB_INPUTS]
    given = list(buffers)
    if digest is not None and names == expected[1:]:
        given.insert(0, (None, None))  # the image: one the server holds
    elif names != expected:
        also = " (or, with image_sha256, the masks alone)" if digest is not None else ""
        raise RequestError("buffer_mismatch", f"submit needs the buffers {', '.join(expected)} in this order{also}, "
                                              f"got {', '.join(names) or 'none'}")
    width, height = buffers[0][0].width, buffers[0][0].height
    for (spec, _), (name, channels) in zip(given, protocol.JOB_INPUTS):
        if spec is None:
            continue
        if spec.channels != channels:
            raise RequestError("buffer_mismatch", f"buffer {name!r} must have {channels} channel(s), "
                                                  f"got {spec.channels}")
        if (spec.width, spec.height) != (width, height):
            raise RequestError("buffer_mismatch", f"buffer {name!r} is {spec.width}x{spec.height} but the "
                                                  f"{buffers[0][0].name} is {width}x{height}; masks must match "
                                                  f"the image")
    if min(width, height) < protocol.MIN_IMAGE_SIDE:
        raise RequestError("invalid_param", f"image is {width}x{height} px; each side must be at least "
                                            f"{protocol.MIN_IMAGE_SIDE} px")
    params = header.get("params", {})
    if not isinstance(params, dict):
        raise RequestError("bad_header", "'params' must be a JSON object")
    silence = header.get("cancel_if_silent_s")
    if silence is not None:
        low, high = SILENCE_RANGE
        if not is_number(silence) or not low <= silence <= high:
            raise RequestError("invalid_param", f"cancel_if_silent_s must be a number of seconds in "
                                                f"{low:g}..{high:g}, or null")
        silence = float(silence)
    placement = check_placement(header.get("placement"), width, height)
    return SubmitRequest(width, height, given[0][1], given[1][1], given[2][1], params, silence, placement, digest)


def check_placement(value, width: int, height: int) -> dict | None:
    """A submit's optional placement: {"left", "top", "width", "height"}, the crop's
    corner in the client's whole photo and that photo's size; the crop must fit in it.
    The server only keeps it and gives it back with the result."""
    if value is None:
        return None
    fields = ("left", "top", "width", "height")
    if not isinstance(value, dict) or set(value) != set(fields) or not all(is_int(value[f]) for f in fields):
        raise RequestError("bad_header", "'placement' must be {\"left\", \"top\", \"width\", \"height\"} "
                                         "(integers), or absent")
    left, top, whole_width, whole_height = (value[f] for f in fields)
    if left < 0 or top < 0 or left + width > whole_width or top + height > whole_height \
            or max(whole_width, whole_height) > protocol.MAX_IMAGE_SIDE:
        raise RequestError("invalid_param", f"placement: a {width}x{height} crop at ({left}, {top}) does not fit in "
                                            f"a {whole_width}x{whole_height} photo")
    return dict(value)


def check_params(params: dict, choices: dict) -> dict:
    """Submit params -> the same dict, checked. `choices`: param name ->
    allowed string values (modes, presets, classifiers, devices)."""
    known = set(INT_PARAMS) | set(CHOICE_PARAMS)
    unknown = sorted(set(params) - known)
    if unknown:
        raise RequestError("invalid_param", f"unknown parameter(s) {', '.join(map(repr, unknown[:8]))}; "
                                            f"known: {', '.join(sorted(known))}")
    checked = {}
    for name, value in params.items():
        if value is None:
            continue
        if name in INT_PARAMS:
            low, high = INT_PARAMS[name]
            if not is_int(value) or not low <= value <= high:
                raise RequestError("invalid_param", f"{name} must be an integer in {low}..{high}, got {value!r}")
        else:
            allowed = choices[name]
            if not isinstance(value, str) or value not in allowed:
                shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "..."
                raise RequestError("invalid_param", f"{name} {shown} is not offered by this server; choose one of "
                                                    f"{', '.join(allowed)}")
        checked[name] = value
    return checked
