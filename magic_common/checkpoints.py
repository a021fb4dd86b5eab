"""The quasi-robust classifiers MAGIC can use (checkpoints.json beside this file):
the installer downloads and verifies them, the engine trusts a file whose sha256
is listed. Keys that must not be renamed: checkpoints.<name>.file and .sha256;
the installer also reads .urls, .size (exact bytes or null), .approx_size (for
messages), .norm, .epsilon and the top-level "default"; .arch is for people.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

MANIFEST_PATH = Path(__file__).with_name("checkpoints.json")


@dataclass
class Checkpoint:
    name: str
    file: str
    urls: List[str]
    sha256: Optional[str]
    size: Optional[int]
    approx_size: Optional[int]
    norm: str
    epsilon: float

    def urls_with_mirror(self, mirror: Optional[str]) -> List[str]:
        """A mirror replaces the URL base; the file name is appended."""
        if mirror:
            return [mirror.rstrip("/") + "/" + self.file]
        return list(self.urls)


def _read(path: Path) -> dict:
    """The manifest's JSON; ValueError (saying which file) if it cannot be read."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"The weights manifest {path} cannot be read ({exc}).") from exc


def load_manifest(path: Path = MANIFEST_PATH) -> Dict[str, Checkpoint]:
    """name -> Checkpoint, in the manifest's order."""
    found = {}
    for name, entry in _read(path)["checkpoints"].items():
        found[name] = Checkpoint(
            name=name, file=entry["file"], urls=list(entry.get("urls") or []),
            sha256=(entry.get("sha256") or None), size=entry.get("size"),
            approx_size=entry.get("approx_size"), norm=entry.get("norm", ""), epsilon=float(entry.get("epsilon", 0)),
        )
    return found


def default_name(path: Path = MANIFEST_PATH) -> str:
    """The checkpoint used when none is named (the paper's: L2, epsilon 0.05)."""
    data = _read(path)
    return data.get("default") or next(iter(data["checkpoints"]))


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (checkpoints are about 200 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
