"""The weights manifest (magic_engine/checkpoints.json), shared with the engine.

Keys the engine reads and that must not be renamed: checkpoints.<name>.file
and .sha256. The installer also uses .urls, .size (exact bytes or null),
.approx_size (for messages), .norm, .epsilon and the top-level "default".
.arch records the architecture for people reading the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from .errors import InstallError
from .locations import MANIFEST_PATH

_SPEC = re.compile(r"^(?:(?:resnet50_)?(l2|linf)[:_]?)?(?:eps)?([0-9]*\.?[0-9]+)$")


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
        """--mirror replaces the URL base; the file name is appended."""
        if mirror:
            return [mirror.rstrip("/") + "/" + self.file]
        return list(self.urls)


def load_manifest(path: Path = MANIFEST_PATH) -> Dict[str, Checkpoint]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InstallError(f"The weights manifest {path} cannot be read ({exc}).") from exc
    found = {}
    for name, entry in data["checkpoints"].items():
        found[name] = Checkpoint(
            name=name, file=entry["file"], urls=list(entry.get("urls") or []),
            sha256=(entry.get("sha256") or None), size=entry.get("size"),
            approx_size=entry.get("approx_size"), norm=entry.get("norm", ""), epsilon=float(entry.get("epsilon", 0)),
        )
    return found


def default_name(path: Path = MANIFEST_PATH) -> str:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data.get("default") or next(iter(data["checkpoints"]))


def resolve(spec: str, manifest: Dict[str, Checkpoint]) -> Checkpoint:
    """A checkpoint from its name, its file name, or a short form like l2:3, linf:4, eps0.05."""
    text = spec.strip()
    if text in manifest:
        return manifest[text]
    for entry in manifest.values():
        if entry.file == text:
            return entry
    match = _SPEC.match(text.lower())
    if match:
        norm, eps = match.group(1) or "l2", float(match.group(2))
        for entry in manifest.values():
            if entry.norm == norm and entry.epsilon == eps:
                return entry
    raise InstallError(f"Unknown checkpoint {spec!r}.",
                       "See the choices with: python installer/install.py --list-checkpoints")


def print_table(manifest: Dict[str, Checkpoint], path: Path = MANIFEST_PATH) -> None:
    default = default_name(path)
    print(f"{'name':<24} {'norm':<5} {'epsilon':>8}  {'sha256':<10} size")
    for entry in manifest.values():
        eps = f"{entry.epsilon:g}" + ("/255" if entry.norm == "linf" else "")
        sha = entry.sha256[:8] + ".." if entry.sha256 else "unknown"
        size = f"{entry.size} B" if entry.size else f"~{(entry.approx_size or 0) / 1e6:.0f} MB"
        mark = "  (default)" if entry.name == default else ""
        print(f"{entry.name:<24} {entry.norm:<5} {eps:>8}  {sha:<10} {size}{mark}")
    print("Entries with an unknown sha256 need --allow-unverified; their computed hash is then recorded.")
