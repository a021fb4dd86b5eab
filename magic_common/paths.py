"""Where magic-gimp keeps its data on this machine: the classifier weights, the
server's spool and logs, the CURVE key pairs, the plug-in's server choice.

`MAGIC_GIMP_HOME` overrides everything (tests, portable installs); otherwise the
platform's per-user data folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
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


def weights_dir() -> Path:
    """Where the installer puts the classifier weights and the engine reads them."""
    return data_dir() / "weights"
