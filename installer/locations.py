"""Where the installer puts things: in the data folder (magic_common.paths,
where the engine reads the weights the installer writes), and GIMP's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from magic_common import __version__
from magic_common.checkpoints import MANIFEST_PATH  # noqa: F401 - the installer reads it from the checkout
from magic_common.paths import data_dir, weights_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT_PATH = REPO_ROOT / "pyproject.toml"
CLIENT_SOURCE = REPO_ROOT / "magic_client"
COMMON_SOURCE = REPO_ROOT / "magic_common"
PLUGIN_NAME = "magic-gimp"
DEFAULT_PLUGIN_SOURCE = REPO_ROOT / "plugin" / PLUGIN_NAME


def default_venv_dir() -> Path:
    return data_dir() / "venv"


def record_path() -> Path:
    return data_dir() / "install-record.json"


def venv_python(venv: Path, windowless: bool = False) -> Path:
    """The venv's interpreter; on Windows `pythonw` avoids a console window."""
    if sys.platform == "win32":
        return venv / "Scripts" / ("pythonw.exe" if windowless else "python.exe")
    return venv / "bin" / "python"


def user_config_home() -> Path:
    """XDG config home (systemd user units live under it)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def project_version() -> str:
    """magic-gimp's version (written into the plug-in config)."""
    return __version__


def short(path: Path) -> str:
    """A path with the home folder written as ~ (for messages)."""
    text = str(path)
    home = str(Path.home())
    if home and home != os.sep and text.startswith(home + os.sep):
        return "~" + text[len(home):]
    return text
