"""Where magic-gimp keeps its data (weights) on this machine.

`MAGIC_GIMP_HOME` overrides everything (tests, portable installs). Otherwise
the platform's per-user data folder is used. The installer writes here and
the engine reads here; the installer (which must not import torch) keeps its
own copy of the rule in installer/locations.py, and tests assert they agree.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

DEFAULT_CHECKPOINT = "resnet50_l2_eps0.05"
_MANIFEST = Path(__file__).with_name("checkpoints.json")


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
    return data_dir() / "weights"


def checkpoint_manifest() -> dict:
    """name -> {file, url, sha256, size, arch, ...} of the published checkpoints."""
    with open(_MANIFEST, encoding="utf-8") as f:
        return json.load(f)["checkpoints"]


def default_checkpoint_path() -> Path:
    return weights_dir() / checkpoint_manifest()[DEFAULT_CHECKPOINT]["file"]
