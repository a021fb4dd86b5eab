"""Where the engine finds the classifier weights: the data folder and the manifest
of published checkpoints (magic_common, shared with the installer, which writes
them there)."""

from __future__ import annotations

from pathlib import Path

from magic_common.checkpoints import default_name, load_manifest
from magic_common.paths import weights_dir

DEFAULT_CHECKPOINT = default_name()


def default_checkpoint_path() -> Path:
    return weights_dir() / load_manifest()[DEFAULT_CHECKPOINT].file
