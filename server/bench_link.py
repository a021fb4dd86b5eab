"""`python -m magic_server.bench_link`: what a job moves over a slow link, the whole
photo against only what the engine reads (magic_client.cropping).

Starts a real server on 127.0.0.1 (tiny preset, 2 variants, random ResNet-18)
and puts a link of --mbit megabits a second in each direction between it and
the client (a TCP relay that paces the bytes it forwards). A 6000x4000 RGBA
photo with a square object moved beside itself (a region of about 1 MP) goes
both ways, alternately, --rounds times. Per round: bytes up and down (the
buffers the protocol carries) and the round trip, submit to the last result
byte. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from magic_client import MagicClient
from magic_client.cropping import crop_to_region, into_photo
from magic_client.runtime import RuntimeInfo, read_runtime_file

from .bench import square_mask, start_server

CHUNK = 64 * 1024


class SlowLink:
    """A TCP relay on 127.0.0.1 that forwards at most `mbit` megabits a second in each
    direction of each connection (the pace of a real link's bandwidth; no latency)."""

    def __init__(self, target_port: int, mbit: float):
        self.target_port = target_port
        self.bytes_per_s = mbit * 1e6 / 8
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        started, sent = time.perf_counter(), 0
        try:
            while chunk := source.recv(CHUNK):
                sink.sendall(chunk)
                sent += len(chunk)
                ahead = sent / self.bytes_per_s - (time.perf_counter() - started)
                if ahead > 0:
                    time.sleep(ahead)
                elif ahead < -0.05:  # idle time is not credit: a burst after a pause is paced too
                    started, sent = time.perf_counter(), 0
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


def one_round(client: MagicClient, photo: tuple, cropped: bool, params: dict) -> dict:
    width, height, image = photo[:3]
    sent, placement = crop_to_region(*photo, client.info) if cropped else (photo, None)
    t0 = time.perf_counter()
    job = client.submit(*sent, params=params, placement=placement)
    result = client.wait(job)
    if cropped:
        result = into_photo(result, image)
    seconds = time.perf_counter() - t0
    assert (result.width, result.height) == (width, height)
    sent_width, sent_height = sent[:2]
    up = sent_width * sent_height * 6  # RGBA + two masks
    down = sent_width * sent_height * (4 * len(result.layers) + 1)  # the layers + the edit mask
    return {"sent": f"{sent_width}x{sent_height}", "up_mb": round(up / 1e6, 1), "down_mb": round(down / 1e6, 1),
            "round_trip_s": round(seconds, 2), "engine_s": result.report["total_seconds"]}


def run(mbit: float, rounds: int, width: int = 6000, height: int = 4000, side: int = 400) -> dict:
    pixels = width * height
    image = bytearray(os.urandom(pixels * 4))
    image[3::4] = b"\xff" * pixels
    top, left = height // 3, width // 4
    photo = (width, height, bytes(image), square_mask(width, height, left, top, side),
             square_mask(width, height, left + side + side // 4, top, side))
    params = {"preset": "tiny", "mode": "position", "seed": 0, "variants": 2}
    figures = {"whole": [], "cropped": []}
    with tempfile.TemporaryDirectory(prefix="magic-bench-link-") as tmp:
        process = start_server(Path(tmp), max(100.0, pixels / 1e6))
        link = None
        try:
            info = json.loads((Path(tmp) / "server.json").read_text())
            link = SlowLink(int(info["endpoint"].rpartition(":")[2]), mbit)
            with MagicClient.connect(Path(tmp) / "server.json", timeout=60) as local:
                local.wait(local.submit(64, 64, bytes(64 * 64 * 4), square_mask(64, 64, 4, 4, 16),
                                        square_mask(64, 64, 40, 40, 16), params=params))  # warm-up, at full speed
            # The same server through the slow link: the runtime file's token, the relay's port.
            runtime = read_runtime_file(Path(tmp) / "server.json")
            slow = RuntimeInfo(runtime.path, f"tcp://127.0.0.1:{link.port}", runtime.token, runtime.pid,
                               runtime.protocol)
            with MagicClient.connect_runtime(slow, timeout=600) as client:
                for _ in range(rounds):
                    for way in ("whole", "cropped"):
                        figures[way].append(one_round(client, photo, way == "cropped", params))
        finally:
            if link is not None:
                link.close()
            process.terminate()
            process.wait(60)
    return {
        "benchmark": "one job over a slow link: the whole photo against what the engine reads",
        "photo": f"{width}x{height} RGBA, a {side}x{side} object moved {side + side // 4} px right",
        "link_mbit_each_way": mbit,
        "median_round_trip_s": {way: statistics.median(f["round_trip_s"] for f in rounds_)
                                for way, rounds_ in figures.items()},
        "each_round": figures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magic_server.bench_link", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mbit", type=float, default=100.0, help="the link's speed each way (default %(default)g)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.mbit, args.rounds), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
