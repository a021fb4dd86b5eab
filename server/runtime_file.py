"""The runtime file that tells clients where the server is, and the lock that
makes sure only one server owns a runtime file (and a spool) at a time.

The lock is an OS file lock on a sibling file, held for the server's life:
the OS drops it when the process dies (even by kill -9), so a runtime file
whose lock is free is stale and can be taken over, with no guessing from
pids (which get reused).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from magic_client.runtime import read_runtime_file
from magic_client.errors import ServerUnavailable


class AlreadyRunning(RuntimeError):
    """Another live server holds the lock."""


class InstanceLock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        # The lock file itself stays: unlinking it could let two servers lock
        # two different files of the same name.
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def write_private_json(path: Path, data: dict) -> None:
    """Atomically replace `path` with `data`, readable by this user only."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class RuntimeFile:
    def __init__(self, path):
        self.path = Path(path)
        self.lock = InstanceLock(self.path.with_name(self.path.name + ".lock"))
        self.stale_pid = None  # pid of a dead server whose file we took over
        self._token = None

    def claim(self) -> None:
        """Take the lock, or raise AlreadyRunning naming the live server."""
        if not self.lock.acquire():
            try:
                info = read_runtime_file(self.path)
                who = f" (pid {info.pid}, {info.endpoint})"
            except ServerUnavailable:
                who = " (it is still starting up)"
            raise AlreadyRunning(
                f"another MAGIC server is already running for {self.path}{who}. Use it, stop it with "
                f"`python -m magic_server.client shutdown`, or give this one its own --runtime-file.")
        try:
            self.stale_pid = read_runtime_file(self.path).pid
        except ServerUnavailable:
            self.stale_pid = None

    def write(self, data: dict) -> None:
        self._token = data["token"]
        write_private_json(self.path, data)

    def remove(self) -> None:
        """Remove the file if it is still ours, then drop the lock."""
        try:
            if self._token is not None and read_runtime_file(self.path).token == self._token:
                self.path.unlink()
        except (ServerUnavailable, OSError):
            pass
        self.lock.release()
