"""`python -m magic_server.bench`: what the protocol and the server cost
around the engine, for a 4000x3000 RGBA layer with two masks.

Starts a real server on 127.0.0.1 (tiny preset, random ResNet-18, small
masks, so the engine's part is short; with --curve, encrypted as a studio
server is), then per round measures:

    upload_s       submit sent -> "accepted" received (transfer, checks, spool write)
    server_side_s  "accepted" -> "done", minus the engine's own total_seconds
                   (input read-back, RGBA conversion, results written to the spool)
    fetch_s        result request -> all layers received
    overhead_s     whole round trip minus the engine's total_seconds

and prints one JSON object (medians, and every round).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from magic_client import MagicClient
from magic_client.protocol import max_frame_bytes
from magic_common.limits import MAX_IMAGE_PIXELS

ENGINE_ARGS = ["--classifier", "random:resnet18", "--device", "cpu"]


def square_mask(width: int, height: int, left: int, top: int, side: int) -> bytes:
    mask = bytearray(width * height)
    for y in range(top, top + side):
        mask[y * width + left:y * width + left + side] = b"\xff" * side
    return bytes(mask)


def start_server(workdir: Path, max_megapixels: float, curve: bool = False) -> subprocess.Popen:
    runtime = workdir / "server.json"
    command = [sys.executable, "-m", "magic_server", "--runtime-file", str(runtime), "--spool", str(workdir / "spool"),
               "--max-megapixels", str(max_megapixels), *ENGINE_ARGS, *(["--curve"] if curve else [])]
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    env = dict(os.environ, MAGIC_GIMP_HOME=str(workdir / "home"))
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {(workdir / 'server.log').read_text()}")
        try:
            if json.loads(runtime.read_text())["pid"] == process.pid:
                return process
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start within 180 s")


def one_round(client: MagicClient, width: int, height: int, buffers, params: dict) -> dict:
    t0 = time.perf_counter()
    job = client.submit(width, height, *buffers, params=params)
    accepted_at = done_at = None
    while done_at is None:
        for event in client.poll(job, timeout_ms=50):
            now = time.perf_counter()
            if event["type"] == "accepted":
                accepted_at = now
            elif event["type"] == "done":
                done_at = now
            elif event["type"] in ("failed", "cancelled"):
                raise SystemExit(f"benchmark job {event['type']}: {event.get('message')}")
    fetch_start = time.perf_counter()
    result = client.result(job)
    end = time.perf_counter()
    engine_s = result.report["total_seconds"]
    assert len(result.layers[0]) == width * height * 4
    return {
        "upload_s": round(accepted_at - t0, 4),
        "server_side_s": round(done_at - accepted_at - engine_s, 4),
        "fetch_s": round(end - fetch_start, 4),
        "engine_s": engine_s,
        "round_trip_s": round(end - t0, 4),
        "overhead_s": round(end - t0 - engine_s, 4),
    }


def ping_latency(client: MagicClient, count: int = 200) -> float:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        client.ping()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _connect(runtime_file: Path, curve: bool) -> MagicClient:
    if not curve:
        return MagicClient.connect(runtime_file, timeout=30)
    info = json.loads(Path(runtime_file).read_text())
    # The server's own user's key is admitted: the bench runs as that user (MAGIC_GIMP_HOME).
    return MagicClient.connect_remote(info["endpoint"], info["server_key"], timeout=30)


def run(width: int, height: int, rounds: int, runtime_file=None, curve: bool = False) -> dict:
    pixels = width * height
    image = bytearray(os.urandom(pixels * 4))
    image[3::4] = b"\xff" * pixels
    masks = (square_mask(width, height, width // 4, height // 3, 64),
             square_mask(width, height, width // 2, height // 3, 64))
    params = {"preset": "tiny", "mode": "position", "seed": 0}
    process = None
    with tempfile.TemporaryDirectory(prefix="magic-bench-") as tmp:
        if runtime_file is None:
            if curve:
                os.environ["MAGIC_GIMP_HOME"] = str(Path(tmp) / "home")  # this process is the server's user
            process = start_server(Path(tmp), max(100.0, pixels / 1e6), curve)
            runtime_file = Path(tmp) / "server.json"
        try:
            with _connect(runtime_file, curve) as client:
                small = square_mask(64, 64, 4, 4, 16), square_mask(64, 64, 40, 40, 16)
                client.wait(client.submit(64, 64, bytes(64 * 64 * 4), *small, params=params))  # warm-up
                figures = [one_round(client, width, height, (bytes(image), *masks), params) for _ in range(rounds)]
                ping_s = ping_latency(client)
                device = client.info["devices"][0]["name"]
        finally:
            if process is not None:
                process.terminate()
                process.wait(60)
    medians = {key: round(statistics.median(f[key] for f in figures), 4) for key in figures[0]}
    return {
        "benchmark": "magic_server protocol overhead",
        "layer": f"{width}x{height} RGBA + 2 masks",
        "upload_mb": round(pixels * 6 / 1e6, 1),
        "result_mb": round(pixels * (2 * 4 + 1) / 1e6, 1),
        "endpoint": "tcp://127.0.0.1" + (", CURVE" if curve else ""),
        "device": device,
        "cpu_count": os.cpu_count(),
        "zmq_maxmsgsize_for_this_size": max_frame_bytes(max(MAX_IMAGE_PIXELS, pixels)),
        "ping_round_trip_ms": round(ping_s * 1000, 3),
        "rounds": rounds,
        "median": medians,
        "each_round": figures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magic_server.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runtime-file", help="measure a running server instead of starting one")
    parser.add_argument("--curve", action="store_true", help="encrypted, as a studio server (magic_server --curve)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.width, args.height, args.rounds, args.runtime_file, args.curve), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
