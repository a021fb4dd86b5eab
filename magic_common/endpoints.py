"""Which ZeroMQ endpoints stay on this computer: the server refuses to bind any
other without encryption, and a client sends compressed pixels to any other."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tcp_host(endpoint: str):
    """The host of tcp://HOST:PORT, or None for another kind of endpoint."""
    if not endpoint.startswith("tcp://"):
        return None
    return endpoint[len("tcp://"):].rpartition(":")[0] or None


def leaves_this_computer(endpoint: str) -> bool:
    """A tcp endpoint on another machine (ipc:// and loopback stay here)."""
    host = tcp_host(endpoint)
    return host is not None and not is_loopback_host(host)
