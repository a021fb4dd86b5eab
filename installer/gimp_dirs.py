"""Finding GIMP 3's per-user folders (where user plug-ins go).

GIMP names the folder after its minor version (3.0, 3.2, ...), so every
existing `GIMP/3.x` folder is a target. If none exists yet (GIMP never
started), the installed GIMP's version decides which one to create.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from .locations import PLUGIN_NAME, user_config_home

FLATPAK_APP = "org.gimp.GIMP"
_VERSION_DIR = re.compile(r"^3\.\d+$")
_VERSION_TEXT = re.compile(r"\b(3\.\d+)(?:\.\d+)?\b")


@dataclass
class GimpProfile:
    """One GIMP 3.x user configuration folder."""

    config_dir: Path
    version: str  # "3.0"
    flavor: str  # native | flatpak | macos | windows | custom

    @property
    def plugins_dir(self) -> Path:
        return self.config_dir / "plug-ins"

    @property
    def plugin_dir(self) -> Path:
        return self.plugins_dir / PLUGIN_NAME

    def describe(self) -> str:
        label = {"native": "GIMP", "flatpak": "GIMP (flatpak)", "macos": "GIMP (macOS)",
                 "windows": "GIMP (Windows)", "custom": "GIMP folder"}[self.flavor]
        return f"{label} {self.version}: {self.config_dir}"


def profile_roots() -> List[tuple]:
    """(folder that holds 3.x folders, flavor) for this platform, most common first."""
    home = Path.home()
    if sys.platform == "win32":
        appdata = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
        return [(appdata / "GIMP", "windows")]
    if sys.platform == "darwin":
        return [(home / "Library" / "Application Support" / "GIMP", "macos")]
    return [
        (user_config_home() / "GIMP", "native"),
        (home / ".var" / "app" / FLATPAK_APP / "config" / "GIMP", "flatpak"),
    ]


def version_of(folder_name: str) -> Optional[str]:
    return folder_name if _VERSION_DIR.match(folder_name) else None


def find_profiles() -> List[GimpProfile]:
    """Every existing GIMP 3.x user folder, plus ones GIMP would create on first start."""
    found: List[GimpProfile] = []
    override = os.environ.get("GIMP3_DIRECTORY")
    if override:
        # GIMP itself uses this folder instead of the usual one.
        found.append(GimpProfile(Path(override).expanduser(), "3.x", "native"))
    for root, flavor in profile_roots():
        versions = sorted(
            (p.name for p in root.iterdir() if p.is_dir() and version_of(p.name)),
            key=lambda v: tuple(int(x) for x in v.split(".")),
        ) if root.is_dir() else []
        if not versions:
            installed = installed_version(flavor)
            if installed:
                versions = [installed]
        found.extend(GimpProfile(root / v, v, flavor) for v in versions)
    return found


def profile_for_dir(path: Path) -> GimpProfile:
    """A folder given with --gimp-dir (its name says the version when it is 3.x)."""
    path = Path(path).expanduser()
    flavor = "flatpak" if f"{os.sep}{FLATPAK_APP}{os.sep}" in str(path) else "custom"
    return GimpProfile(path, version_of(path.name) or "3.x", flavor)


# ---------------------------------------------------------------- GIMP programs


def _run_text(cmd: List[str], timeout: float = 20) -> Optional[str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout or "") + (done.stderr or "") if done.returncode == 0 else None


def gimp_binaries() -> List[Path]:
    """GIMP 3 executables found on this machine (for --check and version detection)."""
    names = ["gimp-3.2", "gimp-3.0", "gimp-3", "gimp"]
    found = [Path(p) for p in (shutil.which(n) for n in names) if p]
    if sys.platform == "darwin":
        for apps in macos_app_dirs():
            candidate = apps / "GIMP.app" / "Contents" / "MacOS" / "gimp"
            if candidate.exists():
                found.append(candidate)
    if sys.platform == "win32":
        for base in windows_program_dirs():
            found.extend(sorted(base.glob("GIMP 3*/bin/gimp-3*.exe")))
    unique = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def windows_program_dirs() -> List[Path]:
    """Where Windows installers put GIMP (all users, then per user)."""
    dirs = [os.environ.get("ProgramFiles"), os.environ.get("ProgramW6432"),
            os.environ.get("LOCALAPPDATA") and str(Path(os.environ["LOCALAPPDATA"]) / "Programs")]
    return [Path(d) for d in dirs if d]


def macos_app_dirs() -> List[Path]:
    return [Path("/Applications"), Path.home() / "Applications"]


def binary_version(binary: Path) -> Optional[str]:
    """'3.0' from `gimp --version`, or None when it is not GIMP 3."""
    text = _run_text([str(binary), "--version"])
    match = _VERSION_TEXT.search(text or "")
    return match.group(1) if match else None


def flatpak_version() -> Optional[str]:
    if not shutil.which("flatpak"):
        return None
    text = _run_text(["flatpak", "info", FLATPAK_APP])
    if text is None:
        return None
    for line in text.splitlines():
        if line.strip().lower().startswith("version:"):
            match = _VERSION_TEXT.search(line)
            if match:
                return match.group(1)
    return "3.0"  # installed, version line missing: 3.0 is the flatpak's first 3.x


def installed_version(flavor: str) -> Optional[str]:
    """The minor version of an installed GIMP 3 of this flavor, if any."""
    if flavor == "flatpak":
        return flatpak_version()
    for binary in gimp_binaries():
        version = binary_version(binary)
        if version:
            return version
    return None
