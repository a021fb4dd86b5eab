"""Optional systemd user service that keeps the server running (Linux).

Useful for people who use MAGIC all day (no start-up wait), and for flatpak
GIMP, which cannot start host programs without an extra permission.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from .errors import InstallError
from .locations import short, user_config_home
from .record import InstallRecord, make_dirs

UNIT_NAME = "magic-gimp-server.service"


def unit_path() -> Path:
    return user_config_home() / "systemd" / "user" / UNIT_NAME


def _quote(arg: str) -> str:
    """One ExecStart word, quoted the way systemd reads it ('%' is a specifier there)."""
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{escaped}"'


def unit_text(command: List[str]) -> str:
    return (
        "[Unit]\n"
        "Description=magic-gimp MAGIC server (backend of the GIMP plug-in)\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={' '.join(_quote(c) for c in command)}\n"
        "Restart=on-failure\n"
        "RestartSec=5\n"
        "# Lower priority than the desktop, so GIMP stays responsive during a job.\n"
        "Nice=5\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def _systemctl(args: List[str], systemctl: Optional[str]) -> Optional[subprocess.CompletedProcess]:
    """`systemctl --user ARGS`; systemctl: its path, "auto" (from PATH), or None (none here)."""
    if systemctl == "auto":
        systemctl = shutil.which("systemctl")
    if not systemctl:
        return None
    try:
        return subprocess.run([systemctl, "--user", *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None


def install_service(command: List[str], record: InstallRecord,
                    systemctl: Optional[str] = "auto") -> List[str]:
    """Write (and if possible enable) the unit; returns lines for the user."""
    if not sys.platform.startswith("linux"):
        raise InstallError("--service installs a systemd user unit, which only exists on Linux.",
                           "On macOS and Windows the plug-in starts the server when it needs it.")
    path = unit_path()
    make_dirs(path.parent, record, "systemd user folder")
    existed = path.exists()
    path.write_text(unit_text(command), encoding="utf-8")
    if not existed:
        record.add(path, "service", "systemd user unit")
    lines = [f"wrote {short(path)}"]
    reload = _systemctl(["daemon-reload"], systemctl)
    enable = _systemctl(["enable", "--now", UNIT_NAME], systemctl) if reload and reload.returncode == 0 else None
    if enable is not None and enable.returncode == 0:
        record.set("service_enabled", True)
        lines.append("enabled and started: systemctl --user status " + UNIT_NAME)
    else:
        last = enable or reload
        why = (last.stderr.strip().splitlines()[-1] if last and last.stderr.strip()
               else "systemctl --user is not available here")
        lines.append(f"could not enable it ({why}); run these yourself:")
        lines.append("  systemctl --user daemon-reload")
        lines.append(f"  systemctl --user enable --now {UNIT_NAME}")
    return lines


def remove_service(path: Path, was_enabled: bool, systemctl: Optional[str] = "auto") -> List[str]:
    lines = []
    if was_enabled:
        done = _systemctl(["disable", "--now", path.name], systemctl)
        if done is None or done.returncode != 0:
            lines.append(f"could not stop the service; run: systemctl --user disable --now {path.name}")
    if path.exists():
        path.unlink()
        lines.append(f"removed {short(path)}")
        _systemctl(["daemon-reload"], systemctl)
    return lines


def service_state(systemctl: Optional[str] = "auto") -> Optional[str]:
    """'active', 'inactive', 'failed'... or None when systemctl cannot tell."""
    done = _systemctl(["is-active", UNIT_NAME], systemctl)
    if done is None or not done.stdout.strip():
        return None
    return done.stdout.strip()
