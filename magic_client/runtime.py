"""Reading the server's runtime file, and telling a live server from a dead one.

The server writes the file (mode 0600) when it is ready and removes it when
it stops: {"protocol", "server_version", "endpoint", "pid", "token", ...}.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ServerUnavailable


@dataclass(frozen=True)
class RuntimeInfo:
    """How to reach a server: from its runtime file (a server on this computer), or
    `remote` (an address and a server key: no file, no process to look at)."""

    path: Path | None
    endpoint: str
    token: str
    pid: int
    protocol: int
    server_version: str = ""
    server_key: str = ""  # Z85 public key of a CURVE server; "" for a plain one

    @classmethod
    def remote(cls, endpoint: str, server_key: str, protocol: int) -> "RuntimeInfo":
        return cls(path=None, endpoint=endpoint, token="", pid=0, protocol=protocol, server_key=server_key)

    @property
    def local(self) -> bool:
        return self.path is not None

    @property
    def alive(self) -> bool:
        return pid_alive(self.pid)


def read_runtime_file(path) -> RuntimeInfo:
    """Raises ServerUnavailable (with what to do) when there is no usable file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ServerUnavailable(f"no MAGIC server is running (no runtime file at {path}). Start one with "
                                f"`python -m magic_server`.") from None
    except OSError as exc:
        raise ServerUnavailable(f"cannot read the server's runtime file {path}: {exc}") from None
    try:
        data = json.loads(text)
        info = RuntimeInfo(path=path, endpoint=str(data["endpoint"]), token=str(data["token"]),
                           pid=int(data["pid"]), protocol=int(data["protocol"]),
                           server_version=str(data.get("server_version", "")),
                           server_key=str(data.get("server_key", "")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ServerUnavailable(f"the server's runtime file {path} is damaged ({exc}); remove it and "
                                f"start the server again") from None
    return info


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    # A killed child that its parent has not reaped still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): trust kill()


def _windows_pid_alive(pid: int) -> bool:
    import ctypes

    process_query_limited_information = 0x1000
    still_active = 259
    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)
