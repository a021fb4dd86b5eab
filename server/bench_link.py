"""`python -m magic_server.bench_link`: what a job moves over a slow link: the whole
photo, only what the engine reads (magic_client.cropping), that compressed, and a
second run on the same photo, which the server kept (magic_client.transfer).

Starts a real server on 127.0.0.1 (tiny preset, 2 variants, random ResNet-18)
and puts a link of --mbit megabits a second in each direction between it and
the client (a TCP relay that paces and counts the bytes it forwards). A
6000x4000 photo (a real one tiled) with a square object moved beside itself (a
region of about 1 MP) goes each way in turn, --rounds times. Per job: the bytes
the link carried up and down and the round trip, submit to the last result
byte. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from magic_client import MagicClient
from magic_client.cropping import crop_to_region, into_photo
from magic_client.runtime import RuntimeInfo, read_runtime_file
from magic_client.transfer import transfer_for

from .bench import square_mask, start_server

CHUNK = 64 * 1024
# Of the bundled photos, the one zlib packs least (41 %: a meadow's fine grass).
DEFAULT_PHOTO = Path(__file__).resolve().parents[1] / "examples" / "cases" / "flower-stem-move" / "image.jpg"


class SlowLink:
    """A TCP relay on 127.0.0.1 that forwards at most `mbit` megabits a second in each
    direction of each connection (the pace of a real link's bandwidth; no latency),
    and counts the bytes it forwarded each way (`moved`: up, to the server; down)."""

    def __init__(self, target_port: int, mbit: float):
        self.target_port = target_port
        self.bytes_per_s = mbit * 1e6 / 8
        self.moved = {"up": 0, "down": 0}
        self._count_lock = threading.Lock()
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
            for source, sink, way in ((client, server, "up"), (server, client, "down")):
                threading.Thread(target=self._pump, args=(source, sink, way), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, way: str) -> None:
        started, sent = time.perf_counter(), 0
        try:
            while chunk := source.recv(CHUNK):
                sink.sendall(chunk)
                sent += len(chunk)
                with self._count_lock:
                    self.moved[way] += len(chunk)
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

    def through(self, runtime: RuntimeInfo) -> RuntimeInfo:
        """The server `runtime` names, reached through this link."""
        return RuntimeInfo(runtime.path, f"tcp://127.0.0.1:{self.port}", runtime.token, runtime.pid, runtime.protocol,
                           server_key=runtime.server_key)


# The ways a job can travel, in the order each round runs them.
WAYS = {
    "whole": dict(cropped=False, slow_link=False),  # the whole photo, raw
    "cropped": dict(cropped=True, slow_link=False),  # what the engine reads, raw
    "cropped, compressed": dict(cropped=True, slow_link=True),  # ...zlib both ways; the photo is kept
    "cropped, compressed, photo kept": dict(cropped=True, slow_link=True),  # a second run: the masks alone
}


def one_round(client: MagicClient, link: SlowLink, photo: tuple, way: dict, params: dict) -> dict:
    width, height, image = photo[:3]
    client.transfer = transfer_for(client.endpoint, client.info, slow_link=way["slow_link"])
    sent, placement = crop_to_region(*photo, client.info) if way["cropped"] else (photo, None)
    before = dict(link.moved)
    t0 = time.perf_counter()
    job = client.submit(*sent, params=params, placement=placement)
    result = client.wait(job)
    if way["cropped"]:
        result = into_photo(result, image)
    seconds = time.perf_counter() - t0
    assert (result.width, result.height) == (width, height)
    return {"sent": f"{sent[0]}x{sent[1]}", "up_mb": round((link.moved["up"] - before["up"]) / 1e6, 2),
            "down_mb": round((link.moved["down"] - before["down"]) / 1e6, 2),
            "round_trip_s": round(seconds, 2), "engine_s": result.report["total_seconds"]}


def load_photo(path: Path, width: int, height: int) -> bytes:
    """RGBA bytes of a width x height photo: `path` tiled at its own resolution (an
    enlargement would smooth it, and smooth pixels compress better than a photo's)."""
    from PIL import Image

    tile = Image.open(path).convert("RGBA")
    canvas = Image.new("RGBA", (width, height))
    for top in range(0, height, tile.height):
        for left in range(0, width, tile.width):
            canvas.paste(tile, (left, top))
    return canvas.tobytes()


def run(mbit: float, rounds: int, photo_path: Path, width: int = 6000, height: int = 4000, side: int = 400) -> dict:
    pixels = width * height
    image = load_photo(photo_path, width, height)
    top, left = height // 3, width // 4
    photo = (width, height, image, square_mask(width, height, left, top, side),
             square_mask(width, height, left + side + side // 4, top, side))
    params = {"preset": "tiny", "mode": "position", "seed": 0, "variants": 2}
    figures = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="magic-bench-link-") as tmp:
        process = start_server(Path(tmp), max(100.0, pixels / 1e6))
        link = None
        try:
            info = json.loads((Path(tmp) / "server.json").read_text())
            link = SlowLink(int(info["endpoint"].rpartition(":")[2]), mbit)
            with MagicClient.connect(Path(tmp) / "server.json", timeout=60) as local:
                local.wait(local.submit(64, 64, bytes(64 * 64 * 4), square_mask(64, 64, 4, 4, 16),
                                        square_mask(64, 64, 40, 40, 16), params=params))  # warm-up, at full speed
            with MagicClient.connect_runtime(link.through(read_runtime_file(Path(tmp) / "server.json")),
                                             timeout=600) as client:
                for number in range(rounds):
                    # Each round's photo is new to the server (a pixel of the object differs), as a
                    # designer's next photo is.
                    changed = bytearray(image)
                    changed[(top * width + left) * 4] = number % 256
                    photo = (width, height, bytes(changed)) + photo[3:]
                    for name, way in WAYS.items():
                        figures[name].append(one_round(client, link, photo, way, params))
        finally:
            if link is not None:
                link.close()
            process.terminate()
            process.wait(60)
    return {
        "benchmark": "one job over a slow link: the whole photo, what the engine reads, compressed, and kept",
        "photo": f"{width}x{height} RGBA ({photo_path.name} tiled at its own resolution), a {side}x{side} "
                 f"object moved {side + side // 4} px right",
        "link_mbit_each_way": mbit,
        "median": {name: {key: statistics.median(f[key] for f in rounds_) for key in ("up_mb", "down_mb",
                                                                                     "round_trip_s")}
                   for name, rounds_ in figures.items()},
        "each_round": figures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magic_server.bench_link", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mbit", type=float, default=100.0, help="the link's speed each way (default %(default)g)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO,
                        help="a photo, tiled to 6000x4000 (default: the flower case's 3840x2560 photo)")
    args = parser.parse_args(argv)
    if not args.photo.is_file():
        parser.error(f"no photo at {args.photo}: run this from the repository, or pass --photo")
    print(json.dumps(run(args.mbit, args.rounds, args.photo), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
