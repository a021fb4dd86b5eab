"""The install record: every file and folder this installer created.

`--uninstall` removes exactly what is listed here and nothing else, so an
item is added only when the installer itself created it (a venv or a
weights file that was already there is used but not recorded). The record
is saved after every change, so a run that dies half-way still leaves an
accurate list, and `state` stays "incomplete" until a run finishes.

Item kinds:
  file          a file we wrote
  tree          a folder that is wholly ours (plug-in folder, venv)
  dir-if-empty  a parent folder we had to create; removed only if empty
  service       a systemd user unit (disabled before it is removed)
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Dict, List, Optional

from .errors import InstallError

FORMAT = 1
KINDS = ("file", "tree", "dir-if-empty", "service")


class InstallRecord:
    def __init__(self, path: Path, data: Optional[dict] = None):
        self.path = Path(path)
        self.data = data or {"format": FORMAT, "state": "new", "items": [], "weights": {}, "plugins": []}

    @classmethod
    def load(cls, path: Path) -> "InstallRecord":
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InstallError(
                f"The install record {path} cannot be read ({exc}).",
                "Move it aside and run the installer again; --uninstall needs a readable record.",
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise InstallError(f"The install record {path} is not in the expected format.")
        data.setdefault("weights", {})
        data.setdefault("plugins", [])
        return cls(path, data)

    # ------------------------------------------------------------ state

    @property
    def state(self) -> str:
        return self.data.get("state", "new")

    def begin(self, what: str) -> bool:
        """Mark a run as in progress; True if the previous run did not finish."""
        unfinished = self.state == "incomplete"
        self.data["state"] = "incomplete"
        self.data["running"] = what
        self.save()
        return unfinished

    def finish(self) -> None:
        self.data["state"] = "complete"
        self.data.pop("running", None)
        self.save()

    # ------------------------------------------------------------ items

    def items(self) -> List[dict]:
        return list(self.data["items"])

    def has(self, path: Path) -> bool:
        key = str(Path(path))
        return any(item["path"] == key for item in self.data["items"])

    def add(self, path: Path, kind: str, what: str = "") -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        if self.has(path):
            return
        self.data["items"].append({"path": str(Path(path)), "kind": kind, "what": what})
        self.save()

    def set_weight(self, name: str, info: dict) -> None:
        self.data["weights"][name] = info
        self.save()

    def weights(self) -> Dict[str, dict]:
        return dict(self.data["weights"])

    def note_plugin(self, plugin_dir: Path, config_file: Path) -> None:
        entry = {"dir": str(plugin_dir), "config": str(config_file)}
        if entry not in self.data["plugins"]:
            self.data["plugins"].append(entry)
            self.save()

    def plugins(self) -> List[dict]:
        return list(self.data["plugins"])

    def set(self, key: str, value) -> None:
        self.data[key] = value
        self.save()

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    # ------------------------------------------------------------ disk

    def save(self) -> None:
        make_dirs(self.path.parent, self)  # records the data dir itself if we create it
        self.data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def make_dirs(path: Path, record: Optional[InstallRecord], what: str = "folder") -> None:
    """mkdir -p, recording each folder it creates as dir-if-empty."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        if record is not None:
            # add() saves, which calls make_dirs again: the folder exists now, so no loop.
            record.add(folder, "dir-if-empty", what)
