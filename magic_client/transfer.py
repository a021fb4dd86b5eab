"""How a job's pixels travel when the server is on another computer: compressed,
a photo sent only once, and results back as the part the edit changed.

On this computer (ipc://, loopback) a frame is copied at several GB/s, faster
than zlib packs it (80-170 MB/s on one laptop core), so pixels go raw and
nothing is kept. Over a network:
- a photo's RGBA packs to 20-40 % and a mask to under 1 %;
- the second run on the same photo (another preset, more variants) names it by
  sha256 instead of sending it (the server keeps what a client uploaded; see
  server/uploads.py);
- outside the edit a result is the submitted image, so the results of a job
  this client submitted come back as the edit's box and are put into the image
  here.
Each only where the server's hello offers it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from magic_common.endpoints import leaves_this_computer

from . import protocol


@dataclass(frozen=True)
class Transfer:
    compress: bool = False  # send buffers zlib-compressed, and ask for compressed replies
    reuse_uploads: bool = False  # name a photo by sha256 first; send it only if the server does not hold it
    edit_box_only: bool = False  # fetch results of this client's own submits as the edit's box alone

    @property
    def encodings(self) -> list:
        """What to accept in replies ("encodings" of a request)."""
        return [protocol.ZLIB] if self.compress else []


def transfer_for(endpoint: str, hello: dict, slow_link: bool | None = None) -> Transfer:
    """The transfer to a server at `endpoint` that answered `hello`; slow_link:
    None decides by the endpoint (another computer is slow), True or False forces it."""
    slow = leaves_this_computer(endpoint) if slow_link is None else slow_link
    offered = hello.get("transfer") or {}
    return Transfer(compress=slow and protocol.ZLIB in offered.get("encodings", []),
                    reuse_uploads=slow and bool(offered.get("keeps_uploads")),
                    edit_box_only=slow and bool(offered.get("edit_box_only")))


def image_sha256(data) -> str:
    return hashlib.sha256(data).hexdigest()
