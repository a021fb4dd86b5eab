"""CURVE keys and the client's side of an encrypted connection (ZeroMQ's CurveZMQ).

A server on another machine is reached over tcp with CURVE: the traffic is
encrypted, the client checks the server by its public key, and the server
admits only clients whose public key its admin has allowed. Each side keeps
its key pair in its data folder, made on first use: `<name>.key` holds the
public key (hand it out), `<name>.key_secret` both keys (mode 0600, never
leaves the machine). The files are ZeroMQ certificates (`zmq.auth` reads them).

`HandshakeWatch` turns what libzmq reports about a failed handshake into one
line a designer can act on, instead of a request that is never answered.
"""

from __future__ import annotations

import datetime
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth
from zmq.utils import z85
from zmq.utils.monitor import recv_monitor_message

from magic_common.paths import data_dir

from .errors import MagicClientError

KEY_LENGTH = 40  # a Z85-encoded 32-byte key
KEYS_FOLDER = "keys"
VAGUE_FAILURES = 3  # handshakes that fail without a reason before the failure is reported


class KeyProblem(MagicClientError):
    """A key or key file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class KeyPair:
    public: bytes  # Z85, 40 bytes
    secret: bytes

    @property
    def public_text(self) -> str:
        return self.public.decode("ascii")


def keys_dir() -> Path:
    return data_dir() / KEYS_FOLDER


def check_public_key(text: str, what: str = "key") -> bytes:
    """A Z85 public key as typed or pasted -> its 40 bytes; KeyProblem if it is not one."""
    key = text.strip()
    try:
        valid = len(key) == KEY_LENGTH and len(z85.decode(key.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError, KeyError, struct.error):  # not Z85, or beyond 32 bits per 5 chars
        valid = False
    if not valid:
        raise KeyProblem(f"{what} {key[:60]!r} is not a CURVE public key: expected {KEY_LENGTH} characters of "
                         f"Z85 (letters, digits and .-:+=^!/*?&<>()[]{{}}@%$#), as the server prints at start")
    return key.encode("ascii")


def _certificate_text(public: bytes, secret: bytes | None) -> str:
    """A ZeroMQ certificate (the format zmq.auth.load_certificate reads)."""
    lines = [f"#   Generated on {datetime.datetime.now():%Y-%m-%d %H:%M} by magic-gimp",
             "#   ZeroMQ CURVE " + ("SECRET certificate: keep it on this machine" if secret else "public certificate"),
             "", "metadata", "curve", f'    public-key = "{public.decode("ascii")}"']
    if secret:
        lines.append(f'    secret-key = "{secret.decode("ascii")}"')
    return "\n".join(lines) + "\n"


def _create(folder: Path, name: str) -> None:
    """A new key pair `name` in `folder` (0700), unless one is there already. The secret
    file is written whole under a private temporary name (0600) and then linked into
    place, so a process starting at the same time never reads half of it and never
    replaces it; where the file system has no hard links it is created in place."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    public, secret = zmq.curve_keypair()
    final = folder / f"{name}.key_secret"
    descriptor, draft = tempfile.mkstemp(dir=folder, prefix=f".{name}.")  # O_EXCL, mode 0600
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        f.write(_certificate_text(public, secret))
    try:
        os.link(draft, final)
    except FileExistsError:
        return  # another process made it first: theirs is used
    except OSError:  # no hard links here (exFAT, some network shares)
        try:
            descriptor = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(descriptor, "w", encoding="utf-8") as f:
            f.write(_certificate_text(public, secret))
    finally:
        os.unlink(draft)
    (folder / f"{name}.key").write_text(_certificate_text(public, None), encoding="utf-8")


def load_or_create(name: str, folder: Path | None = None) -> KeyPair:
    """The key pair `name` in `folder` (default: the data folder's keys/), made on first use."""
    folder = Path(folder) if folder else keys_dir()
    secret_file = folder / f"{name}.key_secret"
    try:
        if not secret_file.exists():
            _create(folder, name)
        public, secret = zmq.auth.load_certificate(secret_file)
    except (OSError, ValueError) as exc:  # a folder that cannot be written, a damaged file
        raise KeyProblem(f"cannot make or read the key file {secret_file} ({exc}); move it away and a new key pair is "
                         f"made (clients or the server's admin then need the new public key)") from None
    if not public or not secret:
        raise KeyProblem(f"the key file {secret_file} holds no secret key; move it away and a new key pair is made")
    return KeyPair(public, secret)


def client_keys() -> KeyPair:
    """This user's client key pair: the one a studio server's admin allows."""
    return load_or_create("client")


def secure_client(socket: zmq.Socket, keys: KeyPair, server_key: bytes) -> None:
    """Make `socket` (not yet connected) speak CURVE to the server with public key `server_key`."""
    socket.curve_secretkey = keys.secret
    socket.curve_publickey = keys.public
    socket.curve_serverkey = server_key


class HandshakeWatch:
    """What libzmq says about a socket's handshakes, read without blocking."""

    EVENTS = (zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
              | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_SUCCEEDED)

    def __init__(self, socket: zmq.Socket, endpoint: str, encrypted: bool):
        self.endpoint = endpoint
        self.encrypted = encrypted
        self._socket = socket
        self._monitor = socket.get_monitor_socket(self.EVENTS)
        self._vague = 0  # failures without a reason since the last handshake that succeeded
        self.problem: str | None = None  # the last failure, cleared by a handshake that succeeds

    def check(self) -> str | None:
        """Read the events so far -> the handshake's failure, as one line, or None."""
        while self._monitor.poll(0):
            event = recv_monitor_message(self._monitor)
            self._note(event["event"], int(event["value"]))
        return self.problem

    def _note(self, event: int, value: int) -> None:
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            self.problem, self._vague = None, 0
        elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            self.problem = (f"the MAGIC server at {self.endpoint} does not allow this computer's key. Ask its admin "
                            f"to add it to the server's --allow-keys file: {client_keys().public_text}")
        elif event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL and value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            self.problem = (
                f"the MAGIC server at {self.endpoint} does not use encryption (it was started without --curve); "
                f"connect without a server key only to a server on this computer" if self.encrypted else
                f"the MAGIC server at {self.endpoint} requires encryption: give its public key (--server-key; the "
                f"server prints it when it starts)")
        else:
            # The server may close the connection before its reason arrives (a broken pipe):
            # only a failure that keeps coming without one is reported (libzmq reconnects
            # after 0.1, 0.2, 0.4 s).
            self._vague += 1
            if self._vague >= VAGUE_FAILURES and self.problem is None:
                self.problem = (
                    f"the encrypted handshake with the MAGIC server at {self.endpoint} failed: the server key does "
                    f"not match the server's (copy it again from the server's start-up output), or the server "
                    f"does not use encryption (it was started without --curve)" if self.encrypted else
                    f"the MAGIC server at {self.endpoint} refused an unencrypted connection: if it runs with --curve, "
                    f"give its public key (--server-key; the server prints it when it starts)")

    def close(self) -> None:
        try:
            self._socket.disable_monitor()
        except zmq.ZMQError:
            pass
        self._monitor.close(linger=0)
