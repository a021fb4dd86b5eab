"""Shared helpers for the installer tests (no tests here).

- `installer_env`: an environment with a fake HOME and none of the variables
  that would point the installer at the real user's folders.
- `run_installer`: runs installer/install.py as a subprocess, like a user.
- `FileServer`: a real HTTP server on 127.0.0.1 that serves bytes the test
  made, honours Range, and can misbehave (drop, stall, ignore Range, corrupt).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INSTALL_PY = REPO / "installer" / "install.py"
# The installer must run on any Python 3.9+: point this at an old interpreter to prove it.
INSTALLER_PYTHON = os.environ.get("MAGIC_GIMP_INSTALLER_PYTHON", sys.executable)

_REDIRECTING_VARS = ("MAGIC_GIMP_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "GIMP3_DIRECTORY",
                     "APPDATA", "LOCALAPPDATA", "PIP_INDEX_URL", "PIP_FIND_LINKS")


def installer_env(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_VARS}
    env["HOME"] = str(home)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def use_fake_home(monkeypatch, home: Path) -> None:
    """The same isolation for in-process tests."""
    for name in _REDIRECTING_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))


def run_installer(args, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([INSTALLER_PYTHON, str(INSTALL_PY), *map(str, args)], env=env, cwd=str(REPO),
                          capture_output=True, text=True, timeout=timeout)


def make_plugin_source(root: Path) -> Path:
    """A stand-in plug-in folder with a NON-executable entry point (the installer must fix that)."""
    src = root / "plugin-src" / "magic-gimp"
    src.mkdir(parents=True)
    (src / "magic-gimp.py").write_text("#!/usr/bin/env python3\nprint('magic-gimp')\n")
    (src / "magic-gimp.py").chmod(0o644)
    (src / "dialogs.py").write_text("LABEL = 'MAGIC'\n")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "junk.pyc").write_bytes(b"junk")
    return src


def fake_gimp_dirs(home: Path) -> dict:
    """GIMP 3.0 user folders as a native and a flatpak GIMP leave them after the first start."""
    native = home / ".config" / "GIMP" / "3.0"
    flatpak = home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.0"
    for folder in (native, flatpak):
        (folder / "plug-ins").mkdir(parents=True)
        (folder / "gimprc").write_text("# user settings\n")
    return {"native": native, "flatpak": flatpak}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileServer:
    """HTTP/1.1 file server for tests. Files: name -> bytes.

    Misbehaviour, per file name, consumed one request at a time:
      drop[name]   = [n, ...]   send n bytes of the body, then close the socket
      stall[name]  = [(n, s)]   send n bytes, then go silent for s seconds
      ignore_range = {names}    always answer 200 with the whole file
      corrupt      = {names}    flip one byte in the middle of what is sent
    `requests` logs (path, Range header or None, status, body bytes sent); read it after the
    `with` block, when every handler thread has finished.
    """

    def __init__(self, files: dict):
        self.files = dict(files)
        self.drop = {}
        self.stall = {}
        self.ignore_range = set()
        self.corrupt = set()
        self.trickle = {}  # name -> bytes per second, sent in small pieces
        self.unbounded = {}  # name -> extra bytes sent after the file, with no Content-Length
        self.requests = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server._serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Handler threads are joined on close, so the request log is complete after `with`.
        self.httpd.daemon_threads = False
        self.httpd.block_on_close = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def bytes_sent(self, name: str) -> int:
        return sum(sent for path, _, _, sent in self.requests if path == "/" + name)

    def requests_for(self, name: str) -> list:
        return [r for r in self.requests if r[0] == "/" + name]

    def _log(self, entry):
        with self._lock:
            self.requests.append(entry)

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        name = h.path.lstrip("/").split("?")[0]
        range_header = h.headers.get("Range")
        data = self.files.get(name)
        if data is None:
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            self._log((h.path, range_header, 404, 0))
            return
        if name in self.corrupt:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        start = 0
        if range_header and name not in self.ignore_range:
            start = int(range_header.split("=")[1].split("-")[0])
            if start >= len(data):
                h.send_response(416)
                h.send_header("Content-Range", f"bytes */{len(data)}")
                h.send_header("Content-Length", "0")
                h.end_headers()
                self._log((h.path, range_header, 416, 0))
                return
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            h.send_response(200)
        body = data[start:]
        if name in self.unbounded:
            body += self.unbounded[name]
            h.close_connection = True  # the end of the connection ends the body
        else:
            h.send_header("Content-Length", str(len(body)))
        h.send_header("Accept-Ranges", "bytes")
        h.end_headers()
        status = 206 if start else 200
        if name in self.trickle:
            rate, sent = self.trickle[name], 0
            try:
                while sent < len(body) and not self._stop.is_set():
                    piece = body[sent:sent + max(1, rate // 20)]
                    h.wfile.write(piece)
                    h.wfile.flush()
                    sent += len(piece)
                    self._stop.wait(0.05)
            except OSError:  # the client gave up
                pass
            self._log((h.path, range_header, status, sent))
            h.close_connection = True
            return

        drops = self.drop.get(name) or []
        stalls = self.stall.get(name) or []
        if drops:
            n = drops.pop(0)
            h.wfile.write(body[:n])
            h.wfile.flush()
            self._log((h.path, range_header, status, n))
            h.close_connection = True
            h.connection.shutdown(2)
            return
        if stalls:
            n, seconds = stalls.pop(0)
            h.wfile.write(body[:n])
            h.wfile.flush()
            self._log((h.path, range_header, status, n))
            self._stop.wait(seconds)  # the client should give up first
            h.close_connection = True
            return
        h.wfile.write(body)
        self._log((h.path, range_header, status, len(body)))
