"""Choosing checkpoints from the weights manifest (magic_common.checkpoints, shared
with the engine) by name or short form, and the table `--list-checkpoints` prints."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict

from magic_common import checkpoints as manifest_file
from magic_common.checkpoints import Checkpoint

from .errors import InstallError
from .locations import MANIFEST_PATH

_SPEC = re.compile(r"^(?:(?:resnet50_)?(l2|linf)[:_]?)?(?:eps)?([0-9]*\.?[0-9]+)$")


def load_manifest(path: Path = MANIFEST_PATH) -> Dict[str, Checkpoint]:
    try:
        return manifest_file.load_manifest(path)
    except ValueError as exc:
        raise InstallError(str(exc)) from exc


def default_name(path: Path = MANIFEST_PATH) -> str:
    try:
        return manifest_file.default_name(path)
    except ValueError as exc:
        raise InstallError(str(exc)) from exc


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
