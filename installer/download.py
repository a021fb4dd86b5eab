"""Resumable, verified downloads (urllib only).

A file is written to <name>.part, resumed with `Range: bytes=N-` after a
dropped connection or a stall, checked against the published sha256 and
only then renamed into place. So the final name only ever holds a verified
file (or, with --allow-unverified, a complete one), and a file that is
already there is never fetched again.

What a server sends is bounded: never more bytes than the manifest's `size`
(or MAX_UNKNOWN_SIZE where no size is published), never slower than
MIN_BYTES_PER_S over a stall period for long (a trickle counts as a stall,
and does not earn fresh retries), and a resumed .part whose whole fails the
hash is downloaded once more from the start before the URL counts as bad.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from magic_common.checkpoints import sha256_of

from .errors import ChecksumError, DownloadError, InstallError
from .locations import short
from .ui import ProgressBar

CHUNK = 256 * 1024
MAX_UNKNOWN_SIZE = 2 * 1024**3  # bytes accepted for a file whose size is not published (the weights: ~205 MB)
MIN_BYTES_PER_S = 10_000  # slower than this for a whole stall period: the connection is treated as stalled
USER_AGENT = "magic-gimp-installer/1"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


@dataclass
class FetchResult:
    path: Path
    sha256: str
    verified: bool  # True: matches the published sha256
    action: str  # present | downloaded | copied
    source: str = ""


class _Retry(Exception):
    """A transient failure: try the same URL again (the .part file is kept)."""


class _TooSlow(_Retry):
    """A trickle: retried, but the bytes it brought do not reset the retry count."""


class _GiveUpOnUrl(Exception):
    """This URL will not work (404, wrong size...): try the next one."""


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _size(path: Path) -> int:
    """Bytes in `path`, 0 when it does not exist (yet)."""
    return path.stat().st_size if path.exists() else 0


def _require_hash_or_permission(dest: Path, sha256: Optional[str], allow_unverified: bool) -> None:
    if sha256 is None and not allow_unverified:
        raise InstallError(
            f"No sha256 is published for {dest.name}, so the installer cannot check that the download "
            "is the genuine file.",
            "Re-run with --allow-unverified to accept it anyway; its computed sha256 is then written "
            "to the install record.",
        )


def _check_existing(dest: Path, sha256: Optional[str]) -> Optional[FetchResult]:
    """A file already at the final name: keep it if it is the right one."""
    if not dest.exists():
        return None
    digest = sha256_of(dest)
    if sha256 is None or digest == sha256:
        return FetchResult(dest, digest, sha256 is not None, "present")
    raise ChecksumError(
        f"{short(dest)} already exists but is not the published file (sha256 {digest}, "
        f"expected {sha256}). It was not written by this installer, or it was damaged later.",
        f"Delete {short(dest)} and run the installer again.",
    )


class Downloader:
    def __init__(self, stall_timeout: float = 30.0, retries: int = 5, retry_wait: float = 2.0,
                 progress_stream=None, min_bytes_per_s: float = MIN_BYTES_PER_S):
        self.stall_timeout = stall_timeout
        self.min_bytes_per_s = min_bytes_per_s
        self.retries = retries
        self.retry_wait = retry_wait
        self.progress_stream = progress_stream

    def fetch(self, urls: List[str], dest: Path, sha256: Optional[str] = None, size: Optional[int] = None,
              allow_unverified: bool = False, label: Optional[str] = None) -> FetchResult:
        dest = Path(dest)
        existing = _check_existing(dest, sha256)
        if existing:
            return existing
        _require_hash_or_permission(dest, sha256, allow_unverified)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = part_path(dest)
        limit = size or MAX_UNKNOWN_SIZE
        failures = []
        for url in urls:
            try:
                resumed = _size(part) > 0
                self._download(url, part, size, limit, label or dest.name)
                digest = sha256_of(part)
                if resumed and sha256 is not None and digest != sha256:
                    # The kept bytes may be what is wrong (another file, a damaged disk): once more from zero.
                    print("   the resumed download does not match its sha256; downloading it again from the start",
                          flush=True)
                    part.unlink()
                    self._download(url, part, size, limit, label or dest.name)
                    digest = sha256_of(part)
            except _GiveUpOnUrl as exc:
                failures.append(f"{url}: {exc}")
                continue
            if sha256 is not None and digest != sha256:
                got = _size(part)
                part.unlink()  # resuming cannot repair wrong bytes: start clean next time
                failures.append(f"{url}: checksum mismatch")
                if url == urls[-1]:
                    raise ChecksumError(
                        f"The download of {dest.name} from {url} is corrupt: its sha256 is {digest}, "
                        f"the published one is {sha256} ({got} bytes received). Nothing was kept.",
                        "Run the installer again; if it happens again, the server or a proxy alters the "
                        "file: use --mirror URL or --weights-from FILE.",
                    )
                continue
            os.replace(part, dest)
            return FetchResult(dest, digest, sha256 is not None, "downloaded", url)
        raise DownloadError(
            f"Could not download {dest.name}: " + "; ".join(failures),
            "Check the network (or the --mirror URL), or copy the file over and use --weights-from FILE.",
        )

    # ------------------------------------------------------------ one URL

    def _download(self, url: str, part: Path, size: Optional[int], limit: int, label: str) -> None:
        failures = 0
        while True:
            before = _size(part)
            try:
                self._attempt(url, part, size, limit, label)
                return
            except _Retry as exc:
                after = _size(part)
                if after > before and not isinstance(exc, _TooSlow):
                    failures = 0  # progress was made: only consecutive fruitless tries count
                failures += 1
                if failures > self.retries:
                    raise DownloadError(
                        f"Gave up on {url} after {self.retries} retries ({exc}). "
                        f"{after} bytes are kept in {short(part)}.",
                        "Run the installer again later: it resumes from there.",
                    ) from None
                wait = min(self.retry_wait * (2 ** (failures - 1)), 60.0)
                print(f"   {exc}; retrying in {wait:.0f}s (attempt {failures + 1} of {self.retries + 1})",
                      flush=True)
                time.sleep(wait)

    def _attempt(self, url: str, part: Path, size: Optional[int], limit: int, label: str) -> None:
        have = _size(part)
        if size is not None and have > size:
            part.unlink()
            have = 0
        if size is not None and have == size:
            return  # complete from an earlier run; the caller verifies it
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=self.stall_timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and have:
                total = _UNSATISFIED_RANGE.search(exc.headers.get("Content-Range", "") or "")
                if total and int(total.group(1)) == have:
                    return  # the .part already holds the whole file
                part.unlink()
                raise _Retry(f"server refused to resume ({have} bytes kept do not fit); starting over")
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise _Retry(f"HTTP {exc.code} from {url}")
            raise _GiveUpOnUrl(f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.gaierror):  # offline, a DNS failure: retrying in seconds will not help
                host = urllib.parse.urlsplit(url).hostname
                raise _GiveUpOnUrl(f"the name {host} does not resolve ({reason.strerror or reason})") from None
            raise _Retry(f"cannot reach {url} ({reason})") from None

        with response:
            total = self._expected_total(response, have, part)
            if total is not None and size is not None and total != size:
                raise _GiveUpOnUrl(f"server offers {total} bytes, the manifest says {size}")
            if total is not None and total > limit:
                raise _GiveUpOnUrl(f"server offers {total} bytes, more than the {limit} accepted for this file")
            done = _size(part)  # _expected_total may have removed it
            window_start, window_bytes = time.monotonic(), done
            mode = "ab" if done else "wb"
            bar = ProgressBar(label, total, done, self.progress_stream)
            try:
                with open(part, mode) as out:
                    while True:
                        try:
                            # read1: whatever has arrived, so a stall loses no received bytes.
                            chunk = response.read1(CHUNK)
                        except (socket.timeout, TimeoutError):
                            raise _Retry(f"no data for {self.stall_timeout:g}s (stalled)") from None
                        except (OSError, http.client.HTTPException) as exc:
                            raise _Retry(f"connection lost ({type(exc).__name__})") from None
                        if not chunk:
                            break
                        if done + len(chunk) > limit:
                            out.close()
                            part.unlink()
                            raise _GiveUpOnUrl(f"server sent more than the {limit} bytes accepted for this file; "
                                               f"nothing was kept")
                        out.write(chunk)
                        done += len(chunk)
                        bar.update(done)
                        now = time.monotonic()
                        if now - window_start >= self.stall_timeout:
                            rate = (done - window_bytes) / (now - window_start)
                            if rate < self.min_bytes_per_s:
                                raise _TooSlow(f"only {rate:.0f} bytes/s for {now - window_start:.0f}s (stalled)")
                            window_start, window_bytes = now, done
            finally:
                bar.close()
            if total is not None and done < total:
                raise _Retry(f"connection closed at {done} of {total} bytes")
            if total is not None and done > total:
                part.unlink()
                raise _Retry(f"server sent {done} bytes, more than the {total} announced; starting over")

    @staticmethod
    def _expected_total(response, have: int, part: Path) -> Optional[int]:
        """Total file size, after making the .part consistent with what the server sends."""
        length = response.headers.get("Content-Length")
        if response.status == 206 and have:
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", "") or "")
            if not match or int(match.group(1)) != have:
                # Not the bytes we asked for: appending them would corrupt the file.
                part.unlink()
                raise _Retry("server answered a different byte range; starting over")
            return int(match.group(3)) if match.group(3) != "*" else None
        if have:
            print("   the server does not support resuming; downloading from the start", flush=True)
            part.unlink()
        return int(length) if length and length.isdigit() else None


def copy_local(source: Path, dest: Path, sha256: Optional[str], allow_unverified: bool) -> FetchResult:
    """--weights-from: copy a file the user brought, verified like a download."""
    source, dest = Path(source), Path(dest)
    existing = _check_existing(dest, sha256)
    if existing:
        return existing
    if not source.is_file():
        raise InstallError(f"{source} is not a file.", "Pass the .ckpt file, or the folder that holds it.")
    _require_hash_or_permission(dest, sha256, allow_unverified)
    digest = sha256_of(source)
    if sha256 is not None and digest != sha256:
        raise ChecksumError(
            f"{source} is not the published {dest.name}: its sha256 is {digest}, expected {sha256}. "
            "Nothing was copied.",
            "Copy the file again (it may be truncated) or download it on another machine.",
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    shutil.copyfile(source, part)
    if sha256_of(part) != digest:  # the copy itself went wrong (full disk, bad medium)
        part.unlink()
        raise ChecksumError(f"Copying {source} to {short(dest)} produced different bytes; nothing was kept.")
    os.replace(part, dest)
    return FetchResult(dest, digest, sha256 is not None, "copied", str(source))
