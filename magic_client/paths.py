"""Where the MAGIC server's runtime file and spool live by default (in the data
folder, magic_common.paths). Standard library only: this module runs inside GIMP's
Python.
"""

from __future__ import annotations

import os
from pathlib import Path

from magic_common.paths import data_dir

RUNTIME_FILE_NAME = "server.json"


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
