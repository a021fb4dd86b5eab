"""Where the MAGIC server's runtime file and spool live by default.

Standard library only: this module runs inside GIMP's Python. The data-dir
rule is a copy of `magic_engine.paths.data_dir()`, which the client cannot
import (it pulls in torch). The two MUST agree; tests/test_client_paths.py
checks that they do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

RUNTIME_FILE_NAME = "server.json"


def data_dir() -> Path:
    """Per-user data folder of magic-gimp (weights, spool, logs)."""
    override = os.environ.get("MAGIC_GIMP_HOME")
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share"))
    return base / "magic-gimp"


def default_runtime_file() -> Path:
    """$MAGIC_GIMP_RUNTIME_FILE, else $XDG_RUNTIME_DIR/magic-gimp/server.json,
    else <data dir>/server.json."""
    override = os.environ.get("MAGIC_GIMP_RUNTIME_FILE")
    if override:
        return Path(override).expanduser()
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        return Path(runtime_dir) / "magic-gimp" / RUNTIME_FILE_NAME
    return data_dir() / RUNTIME_FILE_NAME


def default_spool_dir() -> Path:
    return data_dir() / "spool"


def default_log_file(runtime_file: Path | None = None) -> Path:
    """Where a server started by the client library writes its output."""
    runtime_file = Path(runtime_file) if runtime_file else default_runtime_file()
    return runtime_file.with_name(runtime_file.stem + ".log")
