"""Starting the server from a client (GIMP plug-in, CLI) so that it
outlives the client, and reading its log when it fails to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .errors import ServerUnavailable
from .runtime import read_runtime_file


def live_server(runtime_file: Path) -> bool:
    try:
        return read_runtime_file(runtime_file).alive
    except ServerUnavailable:
        return False


def spawn_detached(command: list, log_path: Path) -> subprocess.Popen:
    """Start the server in its own session, so neither a terminal's Ctrl-C
    nor GIMP killing the plug-in's process group stops it."""
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}  # GIMP's, not ours
    kwargs = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = (subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
                                   | subprocess.CREATE_NO_WINDOW)
    else:
        kwargs["start_new_session"] = True
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=env, close_fds=True, **kwargs)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
