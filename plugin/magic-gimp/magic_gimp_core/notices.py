"""Warnings shown once per server start, not on every run: which server
starts have been warned about is kept in a small JSON file in GIMP's
profile folder (the plug-in is a new process on every run)."""

from __future__ import annotations

import json
import os

NOTICES_FILE = "magic-gimp-notices.json"
KEEP = 20  # server starts remembered; older ones can never come back


def server_start_key(hello: dict) -> str:
    """One server start: its pid and start time, both in `hello`."""
    return f"{hello.get('pid')} {hello.get('started')}"


def first_time(path: str, key: str) -> bool:
    """True the first time `key` is asked about (and records it). A file
    that cannot be read or written means warning again, never failing."""
    seen = []
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, list):
            seen = [item for item in data if isinstance(item, str)]
    except (OSError, ValueError):
        pass
    if key in seen:
        return False
    seen = (seen + [key])[-KEEP:]
    try:
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(seen, f)
        os.replace(tmp, path)
    except OSError:
        pass
    return True
