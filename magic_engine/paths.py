"""Where the engine finds the classifier weights: the data folder
(magic_common.paths, shared with the installer, which writes them here) and
the manifest of published checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

from magic_common.paths import weights_dir

DEFAULT_CHECKPOINT = "resnet50_l2_eps0.05"
_MANIFEST = Path(__file__).with_name("checkpoints.json")


def checkpoint_manifest() -> dict:
    """name -> {file, url, sha256, size, arch, ...} of the published checkpoints."""
    with open(_MANIFEST, encoding="utf-8") as f:
        return json.load(f)["checkpoints"]


def default_checkpoint_path() -> Path:
    return weights_dir() / checkpoint_manifest()[DEFAULT_CHECKPOINT]["file"]
