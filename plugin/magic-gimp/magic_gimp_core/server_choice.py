"""Which MAGIC server the plug-in uses: this computer's (started when needed), or a
studio server on another computer (an address and its public key; see docs/remote.md).

The designer picks it in Filters → MAGIC → Server Settings; it is kept in a small
JSON file in the data folder (beside the client's key pair), so it survives
reinstalling the plug-in and moving to a newer GIMP.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Optional, Tuple

from .messages import UserError

CHOICE_FILE = "plugin-server.json"
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$")  # a name, IPv4 or [IPv6]
THIS_COMPUTER = "this-computer"
STUDIO = "studio"
KINDS = {
    THIS_COMPUTER: ("This computer", "the MAGIC server on this computer, started when needed"),
    STUDIO: ("A studio server", "a MAGIC server on another computer, started there with --curve"),
}


@dataclass(frozen=True)
class ServerChoice:
    kind: str = THIS_COMPUTER
    address: str = ""  # tcp://HOST:PORT (studio only)
    server_key: str = ""  # the studio server's public key (studio only)

    @property
    def studio(self) -> bool:
        return self.kind == STUDIO

    def describe(self) -> str:
        return f"the studio server {self.address}" if self.studio else "this computer"


def check_address(text: str) -> str:
    """tcp://HOST:PORT as typed (a bare HOST:PORT gets tcp://); UserError saying what is wrong."""
    address = text.strip()
    if address and "://" not in address:
        address = "tcp://" + address
    host, _, port = address[len("tcp://"):].rpartition(":")
    if not address.startswith("tcp://") or not _HOST.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"The studio server's address {text.strip()!r} is not tcp://HOST:PORT (for example "
                        f"tcp://gpu-box:5555): ask the studio's admin for it.")
    return address


def studio_choice(address: str, server_key: str, check_key) -> ServerChoice:
    """A studio server from what the designer typed; `check_key` (the client library's
    curve.check_public_key) rejects a key that is not one. UserError says what is wrong."""
    if not server_key.strip():
        raise UserError("The studio server's key is empty: the server prints it when it starts "
                        "(\"server key ...\"); ask the studio's admin for it.")
    try:
        key = check_key(server_key, "The studio server's key").decode("ascii")
    except Exception as exc:  # noqa: BLE001 - the client library's KeyProblem, whose text says why
        raise UserError(str(exc)) from None
    return ServerChoice(STUDIO, check_address(address), key)


def load_choice(folder: str) -> Tuple[ServerChoice, Optional[str]]:
    """The saved choice (this computer when none is saved) and, if the file could not
    be used, why (the plug-in then uses this computer and says so)."""
    path = os.path.join(folder, CHOICE_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return ServerChoice(), None
    except (OSError, ValueError) as exc:
        return ServerChoice(), f"{path} cannot be read ({exc})"
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        return ServerChoice(), f"{path} does not name a server (\"kind\" must be one of {', '.join(KINDS)})"
    if data["kind"] == THIS_COMPUTER:
        return ServerChoice(), None
    address, key = data.get("address"), data.get("server_key")
    if not isinstance(address, str) or not isinstance(key, str) or not address or not key:
        return ServerChoice(), f"{path} names a studio server without its address and key"
    try:
        address = check_address(address)  # the file may have been edited by hand
    except UserError as exc:
        return ServerChoice(), f"{path}: {exc}"
    return ServerChoice(STUDIO, address, key), None


def save_choice(folder: str, choice: ServerChoice) -> str:
    """Write the choice (whole, or not at all) -> the file's path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, CHOICE_FILE)
    data = {"kind": choice.kind}
    if choice.studio:
        data.update(address=choice.address, server_key=choice.server_key)
    draft = f"{path}.tmp"
    with open(draft, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.replace(draft, path)
    return path
