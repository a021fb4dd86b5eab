"""Real magic_server processes for tests, and small test inputs.

Reuse from any test:

    from server_fixtures import start_server, make_job_inputs
    server = start_server(tmp_path)            # a real process on 127.0.0.1, port 0
    with server.client() as client: ...
    server.stop()                              # SIGTERM; server.kill() for SIGKILL

or the fixtures registered in tests/conftest.py: `magic_server` (one
server for the whole session; do not stop it) and `server_factory`
(servers that are killed after the test, even when it fails).

Servers run the engine with the random ResNet-18 classifier on the CPU, and
MAGIC_GIMP_HOME points into the test's folder, so nothing touches the
user's data. Every process started here is also killed at interpreter exit.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

FAST_ENGINE_ARGS = ["--classifier", "random:resnet18", "--device", "cpu"]
TINY = {"preset": "tiny", "mode": "position"}  # about a second per job on a laptop CPU
START_TIMEOUT_S = 120.0
_started: list = []


@dataclass
class ServerProcess:
    process: subprocess.Popen
    runtime_file: Path
    spool: Path
    log_path: Path
    command: list

    @property
    def pid(self) -> int:
        return self.process.pid

    def runtime_info(self) -> dict:
        return json.loads(self.runtime_file.read_text(encoding="utf-8"))

    @property
    def endpoint(self) -> str:
        return self.runtime_info()["endpoint"]

    @property
    def token(self) -> str:
        return self.runtime_info()["token"]

    def client(self, **kwargs):
        """A MagicClient connected to this server (pyzmq is imported here, so engine-only
        test runs never import it)."""
        from magic_client import MagicClient

        return MagicClient.connect(self.runtime_file, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (graceful) -> exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(30)


def start_server(workdir, endpoint: str = "tcp://127.0.0.1:0", extra_args=(), runtime_file=None, spool=None,
                 engine_args=FAST_ENGINE_ARGS, wait: bool = True, timeout: float = START_TIMEOUT_S) -> ServerProcess:
    """Start `python -m magic_server` and (with wait) return once its
    runtime file names this process. Raises with the server's log if it
    exits or does not get ready."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    runtime_file = Path(runtime_file or workdir / "server.json")
    spool = Path(spool or workdir / "spool")
    log_path = workdir / f"server-{len(_started)}.log"
    command = [sys.executable, "-m", "magic_server", "--endpoint", endpoint, "--runtime-file", str(runtime_file),
               "--spool", str(spool), *engine_args, *map(str, extra_args)]
    env = dict(os.environ, MAGIC_GIMP_HOME=str(workdir / "home"), PYTHONUNBUFFERED="1")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = ServerProcess(process, runtime_file, spool, log_path, command)
    _started.append(server)
    if wait:
        wait_until_ready(server, timeout)
    return server


def wait_until_ready(server: ServerProcess, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"magic_server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if server.runtime_info()["pid"] == server.pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"magic_server not ready within {timeout} s:\n{server.log()}")


def kill_all_started() -> None:
    for server in _started:
        try:
            server.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(kill_all_started)


def make_job_inputs(width: int = 96, height: int = 72, source=(10, 10, 34, 34), target=(50, 30, 74, 54),
                    opaque: bool = True, seed: int = 1):
    """-> (image RGBA bytes, source mask bytes, target mask bytes); boxes are
    (left, top, right, bottom). The image is a deterministic pattern."""
    image = bytearray(width * height * 4)
    for y in range(height):
        row = bytes(((x * 7 + y * 3 + seed) % 256) for x in range(width))
        image[y * width * 4:(y + 1) * width * 4:4] = row
        image[y * width * 4 + 1:(y + 1) * width * 4:4] = bytes(reversed(row))
        image[y * width * 4 + 2:(y + 1) * width * 4:4] = bytes((v * 5) % 256 for v in row)
    image[3::4] = b"\xff" * (width * height) if opaque else bytes((i % 200) + 30 for i in range(width * height))

    def mask(box):
        left, top, right, bottom = box
        out = bytearray(width * height)
        for y in range(top, bottom):
            out[y * width + left:y * width + right] = b"\xff" * (right - left)
        return bytes(out)

    return bytes(image), mask(source), mask(target)


# --- pytest fixtures (registered for all tests in tests/conftest.py) ----------
@pytest.fixture(scope="session")
def magic_server(tmp_path_factory):
    """One shared server for the session (tcp on 127.0.0.1). Do not stop it."""
    server = start_server(tmp_path_factory.mktemp("shared-server"))
    yield server
    server.kill()


@pytest.fixture
def server_factory(tmp_path):
    """start(**kwargs) -> ServerProcess (see start_server); all are killed after the test."""
    started = []

    def start(workdir=None, **kwargs):
        server = start_server(workdir or tmp_path / f"server{len(started)}", **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
