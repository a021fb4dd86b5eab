"""The Python interpreter GIMP runs plug-ins with, and what it can import.

- Linux packages: the plug-in's `#!/usr/bin/env python3` starts the system
  Python that has PyGObject (`gi`), so distro packages (python3-zmq) work.
- Flatpak: the runtime's own Python inside the sandbox; host packages are
  invisible, so pyzmq has to sit next to the plug-in.
- Windows and macOS: the Python bundled with GIMP (3.12 on Windows GIMP 3.0).
"""

from __future__ import annotations

import platform
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from .gimp_dirs import FLATPAK_APP, GimpProfile, macos_app_dirs, windows_program_dirs

_PROBE = (
    "import sys\n"
    "print('%d.%d' % sys.version_info[:2])\n"
    "try:\n"
    "    import zmq\n"
    "    print('zmq', zmq.__version__)\n"
    "except Exception as exc:\n"
    "    print('nozmq', type(exc).__name__)\n"
)


@dataclass
class GimpPython:
    command: Optional[List[str]]  # how to start it; None when we could not find it
    description: str
    wheel_platforms: List[str] = field(default_factory=list)  # pip --platform tags for vendoring
    version: Optional[str] = None  # "3.13", from probing or given by the user


@dataclass
class ProbeResult:
    ran: bool
    version: Optional[str] = None
    zmq_version: Optional[str] = None
    error: str = ""


def wheel_platforms(flavor: str, machine: Optional[str] = None) -> List[str]:
    """pip --platform tags a pyzmq wheel for this GIMP may carry (newest first)."""
    machine = (machine or platform.machine() or "x86_64").lower()
    if flavor == "windows" or (flavor == "custom" and sys.platform == "win32"):
        return ["win_arm64"] if machine in ("arm64", "aarch64") else ["win_amd64"]
    if flavor == "macos" or (flavor == "custom" and sys.platform == "darwin"):
        arch = "arm64" if machine in ("arm64", "aarch64") else "x86_64"
        # pip widens macosx tags to older releases by itself; universal2 covers both CPUs.
        return [f"macosx_11_0_{arch}", "macosx_10_15_universal2", f"macosx_10_15_{arch}"]
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    # pip does not widen manylinux_2_x tags, so list the glibc levels pyzmq publishes.
    return [f"manylinux_2_28_{arch}", f"manylinux_2_27_{arch}", f"manylinux_2_26_{arch}",
            f"manylinux_2_17_{arch}", f"manylinux2014_{arch}"]


def _bundled_windows_python() -> Optional[Path]:
    for base in windows_program_dirs():
        for candidate in sorted(base.glob("GIMP 3*/bin/python.exe"), reverse=True):
            return candidate
    return None


def _bundled_macos_python() -> Optional[Path]:
    for apps in macos_app_dirs():
        candidate = apps / "GIMP.app" / "Contents" / "MacOS" / "python3"
        if candidate.exists():
            return candidate
    return None


def _system_python_with_gi() -> Optional[str]:
    """The python3 that can import gi (that is the one GIMP's plug-ins get)."""
    candidates = ["/usr/bin/python3", shutil.which("python3")]
    first_existing = None
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        first_existing = first_existing or candidate
        try:
            done = subprocess.run([candidate, "-c", "import gi"], capture_output=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return candidate
    return first_existing


def for_profile(profile: GimpProfile, override: Optional[str] = None,
                version: Optional[str] = None) -> GimpPython:
    """How to reach the Python that runs plug-ins for this GIMP folder."""
    platforms = wheel_platforms(profile.flavor)
    if override:
        return GimpPython(shlex.split(override), f"the interpreter given with --gimp-python ({override})",
                          platforms, version)
    if profile.flavor == "flatpak":
        if shutil.which("flatpak"):
            return GimpPython(["flatpak", "run", "--command=python3", FLATPAK_APP],
                              "the flatpak runtime's python3", platforms, version)
        return GimpPython(None, "the flatpak runtime's python3 (flatpak command not found)", platforms, version)
    if profile.flavor == "windows" or (profile.flavor == "custom" and sys.platform == "win32"):
        found = _bundled_windows_python()
        return GimpPython([str(found)] if found else None,
                          f"GIMP's bundled Python ({found or 'not found under Program Files'})",
                          platforms, version)
    if profile.flavor == "macos" or (profile.flavor == "custom" and sys.platform == "darwin"):
        found = _bundled_macos_python()
        return GimpPython([str(found)] if found else None,
                          f"GIMP's bundled Python ({found or 'GIMP.app not found'})", platforms, version)
    found = _system_python_with_gi()
    return GimpPython([found] if found else None,
                      f"the system python3 ({found or 'not found'})", platforms, version)


def probe(gimp_python: GimpPython, extra_path: Optional[Path] = None, timeout: float = 60) -> ProbeResult:
    """Run GIMP's Python: its version, and whether `import zmq` works (optionally with a vendor dir)."""
    if not gimp_python.command:
        return ProbeResult(False, error="interpreter not found")
    code = _PROBE
    if extra_path is not None:
        code = f"import sys\nsys.path.insert(0, {str(extra_path)!r})\n" + code
    try:
        done = subprocess.run(gimp_python.command + ["-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return ProbeResult(False, error=str(exc))
    lines = done.stdout.split()
    if done.returncode != 0 or not lines:
        return ProbeResult(False, error=(done.stderr or done.stdout).strip()[-300:])
    result = ProbeResult(True, version=lines[0])
    if len(lines) >= 3 and lines[1] == "zmq":
        result.zmq_version = lines[2]
    return result
