"""`--uninstall`: remove exactly what the install record lists, nothing else.

Folders we only had to create (e.g. ~/.config/GIMP/3.0/plug-ins) are
removed only when empty, so other plug-ins and the user's files survive. A
folder listed as wholly ours is still checked for a sign that it really is
ours before it is deleted, in case the record was edited or damaged.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List

from . import ui
from .locations import PLUGIN_NAME, short
from .record import InstallRecord
from .service import remove_service


def _looks_like_ours(path: Path) -> bool:
    return path.name == PLUGIN_NAME or (path / "pyvenv.cfg").is_file()


def uninstall(record_path: Path) -> int:
    if not record_path.exists():
        ui.say(f"Nothing to uninstall: there is no install record at {short(record_path)}.")
        return 0
    record = InstallRecord.load(record_path)
    items = record.items()
    removed: List[str] = []
    kept: List[str] = []
    ui.heading("Uninstalling magic-gimp")

    for item in reversed(items):  # services first, so the server stops before its venv goes
        if item["kind"] == "service":
            for line in remove_service(Path(item["path"]), bool(record.get("service_enabled"))):
                ui.say(line)

    for item in reversed(items):
        path = Path(item["path"])
        if item["kind"] == "file":
            if path.is_file() or path.is_symlink():
                path.unlink()
                removed.append(item["path"])
        elif item["kind"] == "tree":
            if path.is_symlink():
                path.unlink()
                removed.append(item["path"])
            elif path.is_dir():
                if _looks_like_ours(path):
                    shutil.rmtree(path)
                    removed.append(item["path"])
                else:
                    kept.append(f"{short(path)} (does not look like a magic-gimp folder; left alone)")

    record_path.unlink()
    leftover = record_path.with_name(record_path.name + ".tmp")  # from an interrupted save
    if leftover.exists():
        leftover.unlink()

    folders = [Path(i["path"]) for i in items if i["kind"] == "dir-if-empty"]
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if not folder.is_dir():
            continue
        if any(folder.iterdir()):
            kept.append(f"{short(folder)} (holds other files)")
            continue
        folder.rmdir()
        removed.append(str(folder))

    for path in removed:
        ui.say(f"removed {short(Path(path))}")
    for line in kept:
        ui.say(f"kept {line}")
    ui.say("magic-gimp is uninstalled." if not any("left alone" in k for k in kept)
           else "Done, but some folders were left alone (see above).")
    return 0
