"""Where the installer puts things.

`data_dir()` must agree with `magic_engine.paths.data_dir()` (the engine
reads the weights the installer writes). The installer cannot import the
engine (no torch yet), so the rule is repeated here and a test checks that
both give the same answer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "magic_engine" / "checkpoints.json"
PYPROJECT_PATH = REPO_ROOT / "pyproject.toml"
CLIENT_SOURCE = REPO_ROOT / "magic_client"
PLUGIN_NAME = "magic-gimp"
DEFAULT_PLUGIN_SOURCE = REPO_ROOT / "plugin" / PLUGIN_NAME


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
    """The version in pyproject.toml (written into the plug-in config)."""
    try:
        text = PYPROJECT_PATH.read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    in_project = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            in_project = stripped == "[project]"
        elif in_project and stripped.startswith("version"):
            _, _, value = stripped.partition("=")
            return value.strip().strip('"').strip("'")
    return "unknown"


def short(path: Path) -> str:
    """A path with the home folder written as ~ (for messages)."""
    text = str(path)
    home = str(Path.home())
    if home and home != os.sep and text.startswith(home + os.sep):
        return "~" + text[len(home):]
    return text
