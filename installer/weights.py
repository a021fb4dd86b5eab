"""The weights step: fetch (or copy) each chosen checkpoint into weights_dir()."""

from __future__ import annotations

from pathlib import Path
from typing import List

from . import ui
from .checkpoints import Checkpoint, default_name, load_manifest, resolve
from .download import Downloader, FetchResult, copy_local, part_path
from .errors import InstallError
from .locations import short, weights_dir
from .record import InstallRecord, make_dirs


def chosen(specs, manifest_path: Path) -> List[Checkpoint]:
    manifest = load_manifest(manifest_path)
    names = specs or [default_name(manifest_path)]
    picked = []
    for spec in names:
        entry = resolve(spec, manifest)
        if entry not in picked:
            picked.append(entry)
    return picked


def local_source(weights_from: Path, entry: Checkpoint) -> Path:
    """--weights-from names the file itself or a folder holding files under their published names."""
    weights_from = Path(weights_from).expanduser()
    if weights_from.is_dir():
        candidate = weights_from / entry.file
        if not candidate.is_file():
            raise InstallError(f"{weights_from} has no {entry.file}.",
                               "Put the file there under its published name, or pass the file itself.")
        return candidate
    return weights_from


def install_weights(args, record: InstallRecord) -> List[FetchResult]:
    folder = weights_dir()
    make_dirs(folder, record, "weights folder")
    entries = chosen(args.checkpoint, args.manifest)
    if args.weights_from and not Path(args.weights_from).is_dir() and len(entries) > 1:
        raise InstallError("--weights-from names one file but several checkpoints were chosen.",
                           "Pass a folder that holds the files under their published names.")
    downloader = Downloader(args.stall_timeout, args.retries, args.retry_wait)
    results = []
    for entry in entries:
        dest = folder / entry.file
        existed = dest.exists()
        if not existed:
            # Recorded before the first byte: an interrupted run's .part is still ours to clean up.
            record.add(part_path(dest), "file", f"partial download of {entry.name}")
        if args.weights_from:
            result = copy_local(local_source(args.weights_from, entry), dest, entry.sha256,
                                args.allow_unverified)
        else:
            result = downloader.fetch(entry.urls_with_mirror(args.mirror), dest, entry.sha256, entry.size,
                                      args.allow_unverified, label=entry.file)
        if not existed:
            record.add(dest, "file", f"classifier weights {entry.name}")
        record.set_weight(entry.name, {"file": str(dest), "sha256": result.sha256, "verified": result.verified,
                                       "source": result.source or "already present"})
        results.append(result)
        ui.say(_describe(entry, result))
    return results


def _describe(entry: Checkpoint, result: FetchResult) -> str:
    where = short(result.path)
    check = ("sha256 verified" if result.verified else
             f"NOT verified: no published sha256; computed {result.sha256} (kept in the install record)")
    verb = {"present": "already present", "downloaded": "downloaded", "copied": "copied"}[result.action]
    return f"{entry.name}: {verb}, {check} -> {where}"
