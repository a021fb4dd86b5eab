"""Which ZeroMQ endpoints the server may bind, and the checks before binding."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

from magic_common.endpoints import is_loopback_host

DEFAULT_ENDPOINT = "tcp://127.0.0.1:0"


class EndpointError(ValueError):
    pass


def check_endpoint(endpoint: str, curve: bool = False) -> str:
    """tcp://HOST:PORT (loopback unless `curve`: encrypted, clients allowed by key) or
    ipc://PATH (not on Windows)."""
    if endpoint.startswith("tcp://"):
        host, sep, port = endpoint[len("tcp://"):].rpartition(":")
        if not sep or not host:
            raise EndpointError(f"{endpoint!r}: expected tcp://HOST:PORT, e.g. {DEFAULT_ENDPOINT}")
        if port != "*" and not (port.isdigit() and int(port) <= 65535):
            raise EndpointError(f"{endpoint!r}: port must be 0..65535 (0 picks a free port)")
        if not is_loopback_host(host) and not curve:
            raise EndpointError(
                f"{endpoint!r} is reachable from other machines; the server binds loopback only "
                f"(127.0.0.1) unless it encrypts and authenticates its clients: pass --curve and "
                f"--allow-keys FILE (one client key per line; see docs/remote.md)")
        return endpoint
    if endpoint.startswith("ipc://"):
        if sys.platform == "win32":
            raise EndpointError("ipc:// endpoints are not available on Windows; use tcp://127.0.0.1:0")
        if not endpoint[len("ipc://"):]:
            raise EndpointError("ipc:// needs a path, e.g. ipc:///run/user/1000/magic-gimp/server.sock")
        return endpoint
    raise EndpointError(f"{endpoint!r}: the server binds tcp://HOST:PORT or ipc://PATH")


def prepare_ipc_path(endpoint: str) -> None:
    """Create the socket's folder (0700) and refuse a path libzmq must not
    replace: libzmq unlinks whatever is there before it binds, so anything
    but a stale socket (a file, a folder, a live server's socket) is refused."""
    if not endpoint.startswith("ipc://"):
        return
    path = Path(endpoint[len("ipc://"):])
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if path.is_symlink() or (path.exists() and not stat.S_ISSOCK(path.stat().st_mode)):
        raise EndpointError(f"{endpoint}: {path} exists and is not a socket; the server will not replace it. "
                            f"Give --endpoint a path of its own.")
    if path.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(os.fspath(path))
        except OSError:
            return  # left behind by a server that died: libzmq replaces it
        finally:
            probe.close()
        raise EndpointError(f"{endpoint}: another process is listening on this socket")
