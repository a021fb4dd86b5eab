"""The server's side of CURVE: its key pair, the clients it allows, the ZAP handler.

With `--curve` every connection is encrypted and authenticated before any
request reaches the server's loop: libzmq asks the ZAP handler (pyzmq's
ThreadAuthenticator, a thread of its own) about each client's public key,
and `AllowedKeys` answers from the admin's file. The file is read again
whenever it changes, so allowing or removing a designer takes effect at
their next connection, without a restart. The server's own user's client
key (in the same data folder) is always allowed: the plug-in on the server
machine works as before.

The loop itself knows nothing of this: `CurveSecurity.secure(router)` sets
the socket's keys before it binds, and requests then need no token.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import zmq
from zmq.auth.thread import ThreadAuthenticator

from magic_client.curve import KeyPair, KeyProblem, check_public_key, client_keys, load_or_create

log = logging.getLogger(__name__)

SERVER_KEY_NAME = "server"
REFUSAL_LOG_EVERY_S = 60.0  # a refused client reconnects every few seconds: one log line per key this often


class AllowedKeys:
    """The clients' public keys in a file: one Z85 key per line, optionally followed by
    a comment after a space (a designer's name, say); a line starting with `#` is a
    comment (`#` is a Z85 character too: a key may hold one, but never starts with
    one). Any other line is logged and skipped."""

    def __init__(self, path: Path | None, always=()):
        self.path = Path(path) if path else None
        self.always = frozenset(always)
        self._keys: frozenset = frozenset()
        self._seen = None  # (mtime_ns, size) of the file as last read
        self._lock = threading.Lock()
        self._refusals_logged: dict = {}  # key -> when its refusal was last logged
        if self.path is not None:
            self._read()

    def _read(self) -> None:
        """Read the file now; raises KeyProblem if it cannot be read at all."""
        try:
            stat = self.path.stat()
            text = self.path.read_text(encoding="utf-8-sig", errors="replace")  # a BOM from Notepad is not a key
        except OSError as exc:
            raise KeyProblem(f"cannot read the allowed keys file {self.path}: {exc}") from None
        keys = set()
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split(maxsplit=1)
            if not words or words[0].startswith("#"):
                continue
            try:
                keys.add(check_public_key(words[0]))
            except KeyProblem as exc:
                log.warning("%s line %d skipped: %s", self.path, number, exc)
        self._keys, self._seen = frozenset(keys), (stat.st_mtime_ns, stat.st_size)
        log.info("%d client key(s) allowed by %s", len(keys), self.path)

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except OSError:
            if self._keys:
                log.warning("the allowed keys file %s is gone: no client key is allowed until it is back", self.path)
            self._keys, self._seen = frozenset(), None
            return
        if (stat.st_mtime_ns, stat.st_size) != self._seen:
            try:
                self._read()
            except KeyProblem as exc:
                log.warning("%s; the keys read before stay allowed", exc)

    def allows(self, key: bytes) -> bool:
        if key in self.always:
            return True
        if self.path is None:
            return False
        with self._lock:
            self._refresh()
            return key in self._keys

    def callback(self, domain: str, key: bytes) -> bool:
        """pyzmq's credentials-provider hook: called by the ZAP thread for each handshake."""
        allowed = self.allows(key)
        now = time.monotonic()
        if not allowed and now - self._refusals_logged.get(key, -REFUSAL_LOG_EVERY_S) >= REFUSAL_LOG_EVERY_S:
            if len(self._refusals_logged) > 1000:  # many keys tried: forget the old ones
                self._refusals_logged.clear()
            self._refusals_logged[key] = now
            log.warning("refused a client with key %s (not in %s)", key.decode("ascii", "replace"),
                        self.path or "any allowed keys file")
        return allowed


class CurveSecurity:
    """Encryption and client authentication for the server's socket."""

    def __init__(self, allowed_keys_file: Path | None, keys_folder: Path | None = None):
        self.keys: KeyPair = load_or_create(SERVER_KEY_NAME, keys_folder)
        own = client_keys().public
        self.local_client_key = own.decode("ascii")  # the User-Id its connections carry: the server's own user
        self.allowed = AllowedKeys(allowed_keys_file, always=[own])
        self._authenticator = None

    @property
    def public_key(self) -> str:
        return self.keys.public_text

    def start(self, context: zmq.Context) -> None:
        """Start answering ZAP requests for `context`'s sockets (before any binds)."""
        self._authenticator = ThreadAuthenticator(context, log=logging.getLogger(__name__ + ".zap"))
        self._authenticator.start()
        self._authenticator.configure_curve_callback("*", credentials_provider=self.allowed)

    def secure(self, socket: zmq.Socket) -> None:
        """Make `socket` (not yet bound) a CURVE server with this server's keys."""
        socket.curve_server = True
        socket.curve_secretkey = self.keys.secret
        socket.curve_publickey = self.keys.public

    def stop(self) -> None:
        if self._authenticator is not None:
            self._authenticator.stop()
            self._authenticator = None


def check_allowed_keys_file(path: str) -> Path:
    """The --allow-keys file as given; KeyProblem (with what to do) if it cannot be read."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise KeyProblem(f"the allowed keys file {file} does not exist: create it with one client key per line "
                         f"(each designer gets theirs with `python -m magic_server.client key`)")
    if not os.access(file, os.R_OK):
        raise KeyProblem(f"the allowed keys file {file} cannot be read by this user")
    return file
