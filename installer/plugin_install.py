"""Copying the GIMP plug-in into a GIMP 3 user folder and configuring it.

Result: <GIMP dir>/plug-ins/magic-gimp/
          magic-gimp.py      entry point (executable: GIMP skips it otherwise)
          magic_client/      copy of the repo's client package
          magic_common/      copy of the repo's shared rules (data folder, limits)
          magic-gimp.json    how to reach / start the server
          vendor/            pyzmq for GIMP's Python, when needed

The new folder is assembled next to the old one and swapped in, so a
failure half-way never leaves GIMP with a broken plug-in.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import List, Optional

from .errors import InstallError
from .locations import COMMON_SOURCE, PLUGIN_NAME, project_version, short
from .record import InstallRecord, make_dirs

CONFIG_NAME = f"{PLUGIN_NAME}.json"
ENTRY_NAME = f"{PLUGIN_NAME}.py"
VENDOR_NAME = "vendor"
# Settings a developer adds to magic-gimp.json by hand (see plugin/README.md); a reinstall keeps them.
DEVELOPER_KEYS = ("variants", "test_presets")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache")


def plugin_config(server_command: List[str], runtime_file: Optional[str] = None) -> dict:
    return {
        "version": project_version(),
        "runtime_file": runtime_file,
        "server_command": list(server_command),
        "vendor_dir": VENDOR_NAME,
    }


def check_source(source: Path) -> None:
    if not (source / ENTRY_NAME).is_file():
        raise InstallError(
            f"The plug-in source {source} has no {ENTRY_NAME}.",
            "Run the installer from a complete magic-gimp checkout, or pass --plugin-source DIR.",
        )


def install_plugin(plugins_dir: Path, source: Path, client_source: Path, config: dict,
                   record: Optional[InstallRecord], common_source: Path = COMMON_SOURCE) -> Path:
    """Install (or replace) <plugins_dir>/magic-gimp; returns that folder."""
    source = Path(source)
    packages = [Path(client_source), Path(common_source)]  # copied beside the entry point
    check_source(source)
    for package in packages:
        if not (package / "__init__.py").is_file():
            raise InstallError(f"The package {package} is missing (no __init__.py).")
    target = plugins_dir / PLUGIN_NAME
    if target.is_symlink():
        raise InstallError(
            f"{short(target)} is a symbolic link to {os.readlink(target)} (a development setup?). "
            "The installer leaves it alone.",
            "Remove the link yourself if you want the installed copy instead.",
        )
    make_dirs(plugins_dir, record, "GIMP plug-ins folder")

    stage = plugins_dir / f".{PLUGIN_NAME}.installing"
    old = plugins_dir / f".{PLUGIN_NAME}.old"
    for leftover in (stage, old):  # from an interrupted earlier run; the names are ours
        if leftover.exists():
            shutil.rmtree(leftover)

    shutil.copytree(source, stage, ignore=_IGNORE)
    for package, name in zip(packages, ("magic_client", "magic_common")):
        copy = stage / name
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(package, copy, ignore=_IGNORE)
    entry = stage / ENTRY_NAME
    entry.chmod(entry.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    # GIMP keeps a plug-in's procedures and arguments in its pluginrc until the entry
    # file's modification time changes; an update that changed only the packages
    # beside it (a new argument) would otherwise run against the old registration.
    os.utime(entry)
    # Keep an earlier vendored pyzmq: it still matches GIMP's Python and saves a download.
    if (target / VENDOR_NAME).is_dir() and not (stage / VENDOR_NAME).exists():
        shutil.copytree(target / VENDOR_NAME, stage / VENDOR_NAME)
    try:
        earlier = json.loads((target / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = {}
    if isinstance(earlier, dict):
        config = dict(config, **{key: earlier[key] for key in DEVELOPER_KEYS if key in earlier})
    write_config(stage / CONFIG_NAME, config)

    if target.exists():
        os.rename(target, old)
    os.rename(stage, target)
    if old.exists():
        shutil.rmtree(old)
    if record is not None:
        record.add(target, "tree", "GIMP plug-in")
        record.note_plugin(target, target / CONFIG_NAME)
    return target


def write_config(path: Path, config: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_config(plugin_dir: Path) -> dict:
    path = Path(plugin_dir) / CONFIG_NAME
    return json.loads(path.read_text(encoding="utf-8"))


def plugin_problems(plugin_dir: Path) -> List[str]:
    """What is wrong with an installed plug-in folder (empty list: looks fine)."""
    plugin_dir = Path(plugin_dir)
    if not plugin_dir.is_dir():
        return [f"{short(plugin_dir)} does not exist"]
    problems = []
    entry = plugin_dir / ENTRY_NAME
    if not entry.is_file():
        problems.append(f"{ENTRY_NAME} is missing")
    elif os.name != "nt" and not os.access(entry, os.X_OK):
        problems.append(f"{ENTRY_NAME} is not executable (GIMP ignores it)")
    for package in ("magic_client", "magic_common"):
        if not (plugin_dir / package / "__init__.py").is_file():
            problems.append(f"{package}/ is missing")
    try:
        config = read_config(plugin_dir)
    except FileNotFoundError:
        problems.append(f"{CONFIG_NAME} is missing")
    except (OSError, ValueError) as exc:
        problems.append(f"{CONFIG_NAME} is not valid JSON ({exc})")
    else:
        command = config.get("server_command")
        if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
            problems.append(f"{CONFIG_NAME}: server_command must be a non-empty list of strings")
        if config.get("runtime_file") is not None and not isinstance(config.get("runtime_file"), str):
            problems.append(f"{CONFIG_NAME}: runtime_file must be null or a path")
    return problems
