"""Making pyzmq importable from GIMP's Python.

If GIMP's Python already imports zmq (e.g. Debian's python3-zmq), nothing
is done. Otherwise a pyzmq wheel built for GIMP's Python version and
platform is unpacked into <plug-in>/vendor, which the plug-in puts on
sys.path. pyzmq is a compiled extension, so the wheel must match GIMP's
interpreter, not the one running this installer.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from .gimp_dirs import GimpProfile
from .gimp_python import GimpPython, probe
from .locations import short
from .plugin_install import VENDOR_NAME

# Python versions of GIMP builds we cannot run from here (documented by GIMP / flathub).
_ASSUMED_VERSION = {"windows": "3.12", "flatpak": "3.12"}
LINUX_PACKAGES = ("Debian/Ubuntu: sudo apt install python3-zmq | Fedora: sudo dnf install python3-zmq | "
                  "Arch: sudo pacman -S python-pyzmq")


@dataclass
class ZmqOutcome:
    status: str  # present | vendored | manual
    message: str


def pip_command(fallback_python: Optional[Path] = None) -> Optional[List[str]]:
    """A pip to run: this Python's, else the server venv's."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    if fallback_python is not None and Path(fallback_python).exists():
        return [str(fallback_python), "-m", "pip"]
    return None


def vendor_command(pip: List[str], target: Path, python_version: str, platforms: List[str],
                   wheels_dir: Optional[Path] = None) -> List[str]:
    cmd = list(pip) + ["install", "--disable-pip-version-check", "--no-compile", "--target", str(target),
                       "--only-binary=:all:", "--implementation", "cp", "--python-version", python_version]
    for tag in platforms:
        cmd += ["--platform", tag]
    if wheels_dir is not None:
        cmd += ["--no-index", "--find-links", str(wheels_dir)]
    return cmd + ["pyzmq"]


def ensure_zmq(plugin_dir: Path, profile: GimpProfile, gimp_python: GimpPython,
               pip: Optional[List[str]], wheels_dir: Optional[Path] = None) -> ZmqOutcome:
    vendor = plugin_dir / VENDOR_NAME
    found = probe(gimp_python)
    if found.ran and found.zmq_version:
        return ZmqOutcome("present", f"GIMP's Python {found.version} ({gimp_python.description}) already "
                                     f"imports pyzmq {found.zmq_version}: nothing to do.")
    if vendor.is_dir() and found.ran:
        with_vendor = probe(gimp_python, extra_path=vendor)
        if with_vendor.zmq_version:
            return ZmqOutcome("present", f"pyzmq {with_vendor.zmq_version} in {short(vendor)} already works "
                                         f"with GIMP's Python {with_vendor.version}.")

    version = found.version or gimp_python.version or _ASSUMED_VERSION.get(profile.flavor)
    how_known = ("measured" if found.version else "given" if gimp_python.version else "assumed")
    if version is None:
        return ZmqOutcome("manual", _manual_text(profile, gimp_python, vendor, pip, wheels_dir))
    if pip is None:
        return ZmqOutcome("manual", "No pip is available to fetch pyzmq for GIMP. "
                          + _manual_text(profile, gimp_python, vendor, None, wheels_dir, version))

    staging = vendor.with_name(VENDOR_NAME + ".new")
    if staging.exists():
        shutil.rmtree(staging)
    cmd = vendor_command(pip, staging, version, gimp_python.wheel_platforms, wheels_dir)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return ZmqOutcome("manual", f"Could not fetch a pyzmq wheel for Python {version} "
                                    f"({', '.join(gimp_python.wheel_platforms[:1])}): {' / '.join(tail)}. "
                          + _manual_text(profile, gimp_python, vendor, pip, wheels_dir, version))
    if vendor.exists():
        shutil.rmtree(vendor)
    staging.rename(vendor)

    check = probe(gimp_python, extra_path=vendor)
    where = f"{short(vendor)} (for Python {version}, {how_known})"
    if check.zmq_version:
        return ZmqOutcome("vendored", f"Put pyzmq {check.zmq_version} into {where}; GIMP's Python imports it.")
    if not check.ran:
        return ZmqOutcome("vendored", f"Put pyzmq into {where}. GIMP's Python could not be run from here, "
                                      "so the import was not tested; `install.py --check` tells you more.")
    return ZmqOutcome("manual", f"Put pyzmq into {where}, but GIMP's Python {check.version} still cannot "
                                "import it. " + _manual_text(profile, gimp_python, vendor, pip, wheels_dir))


def _manual_text(profile: GimpProfile, gimp_python: GimpPython, vendor: Path, pip: Optional[List[str]],
                 wheels_dir: Optional[Path], version: Optional[str] = None) -> str:
    shown = version or "X.Y"
    cmd = vendor_command(pip or ["python", "-m", "pip"], vendor, shown, gimp_python.wheel_platforms, wheels_dir)
    vendor_text = "put a matching pyzmq next to the plug-in: " + subprocess.list2cmdline(cmd)
    if not version:
        vendor_text += (" (X.Y = GIMP's Python version: GIMP's Python console prints it; or re-run the "
                        "installer with --gimp-python-version X.Y)")
    if profile.flavor in ("native", "custom") and sys.platform.startswith("linux"):
        return (f"Install pyzmq for the system Python GIMP uses ({LINUX_PACKAGES}), or {vendor_text}. "
                "Then run install.py --check.")
    return f"To fix it, {vendor_text}. Then run install.py --check."
