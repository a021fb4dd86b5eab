"""`python -m magic_server.client`: the server from a terminal or a script.

    python -m magic_server.client submit photo.jpg source.png target.png --out results/ --preset preview
    python -m magic_server.client submit ... --no-wait          # prints the job id, fetch later
    python -m magic_server.client fetch JOB --out results/      # waits if it is still running
    python -m magic_server.client status JOB | jobs | cancel JOB | hello | shutdown
    python -m magic_server.client --server tcp://studio-gpu:5555 --server-key KEY submit ...   # a studio server
    python -m magic_server.client key       # this computer's public key, for the studio server's admin

`submit` and `fetch` write composite_<i>.png (the whole image with the edit
blended in), edit_mask.png and report.json. `submit` sends only the area MAGIC
works on (the server's region around both masks; `--whole` sends the whole
photo) and puts the results back into the photo; `fetch` of such a job needs
the photo again (`--image`), else it writes the area alone. Files are read as
the engine reads them (magic_engine.inputs, which needs no torch) and written
with Pillow; the client library itself sends raw pixels.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from magic_client import JobCancelled, JobFailed, MagicClient, MagicClientError, curve
from magic_client.cropping import crop_to_region, into_photo
from magic_client.__main__ import describe_job, describe_server
from magic_common.phases import QUEUED
from magic_engine.errors import InputError
from magic_engine.inputs import mask_values, read_rgba

EXIT_FAILED, EXIT_CANCELLED, EXIT_USAGE = 1, 130, 2


def read_image_rgba(path: str):
    """-> (width, height, RGBA bytes), read as the engine reads a file (EXIF
    orientation applied, refused from its header when too large)."""
    rgba = read_rgba(path)
    return rgba.shape[1], rgba.shape[0], rgba.tobytes()


def read_mask(path: str, what: str, size: tuple) -> bytes:
    """-> one byte per pixel, as the engine reduces a mask file (magic_engine.inputs.mask_values)."""
    return mask_values(path, what, (size[1], size[0])).tobytes()


class ProgressLine:
    """One line on a terminal (a plain line per phase and per 10 % otherwise)."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = None

    def __call__(self, event: dict) -> None:
        kind = event["type"]
        if kind == "progress" and event.get("phase") == QUEUED or kind == "accepted":
            ahead, wait = event.get("jobs_ahead"), event.get("wait_s")
            text = f"queued, {ahead} job(s) ahead" + (f", starts in about {wait:.0f} s" if wait else "")
        elif kind == "progress" and event.get("total"):
            fraction = event["step"] / event["total"]
            bar = "#" * int(24 * fraction) + "-" * (24 - int(24 * fraction))
            eta = event.get("eta_s")
            left = f", {eta:.0f} s left" if eta is not None else ""
            text = f"{event['phase']:>9} [{bar}] {event['step']}/{event['total']}{left}"
            if not self.tty:
                text = f"{event['phase']}: {int(10 * fraction) * 10} %"
        else:
            return
        if text == self.last:
            return
        self.last = text
        self.stream.write(f"\r{text:<70}" if self.tty else text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.last:
            self.stream.write("\n")
            self.stream.flush()


def write_result(result, out_dir: Path, placement: dict | None = None) -> list:
    """composite_<i>.png, edit_mask.png, report.json (with `placement`: the area the job
    was sent as, when it was a crop)."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    size = (result.width, result.height)
    written = []
    for i, layer in enumerate(result.layers):
        image = Image.frombuffer("RGBA", size, layer, "raw", "RGBA", 0, 1)
        if image.getchannel("A").getextrema() == (255, 255):
            image = image.convert("RGB")  # an opaque input gives an opaque result: keep files small
        path = out_dir / f"composite_{i}.png"
        image.save(path)
        written.append(path)
    Image.frombuffer("L", size, result.edit_mask, "raw", "L", 0, 1).save(out_dir / "edit_mask.png")
    report = dict(result.report, job_id=result.job_id, params=result.params)
    if placement:
        report["placement"] = placement
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return written + [out_dir / "edit_mask.png", out_dir / "report.json"]


def follow(client: MagicClient, job: str, out_dir: Path, quiet: bool, photo_rgba=None) -> int:
    """Wait for `job`, then write its results: into `photo_rgba` (the whole photo) when
    the job was sent cropped and the photo is given."""
    bar = None if quiet else ProgressLine()
    started = time.monotonic()
    try:
        result = client.wait(job, on_event=bar)
    except KeyboardInterrupt:
        client.cancel(job)
        print(f"\ncancelled job {job}", file=sys.stderr)
        return EXIT_CANCELLED
    except JobCancelled as exc:
        print(f"job {job} was cancelled: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except JobFailed as exc:
        print(f"job {job} failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if bar:
            bar.finish()
    placement = result.placement
    if placement and photo_rgba is not None:
        result = into_photo(result, photo_rgba)
    elif placement:
        p = placement
        print(f"note: job {job} was sent as the {result.width}x{result.height} px area at ({p['left']}, {p['top']}) "
              f"of a {p['width']}x{p['height']} photo; these results are that area. Add --image PHOTO to write "
              f"whole-photo results.", file=sys.stderr)
    write_result(result, out_dir, placement)
    engine_s = result.report.get("total_seconds")
    print(f"wrote {len(result.layers)} result(s) to {out_dir} (job {job}, {time.monotonic() - started:.1f} s, "
          f"engine {engine_s} s on {result.report.get('device')})")
    for note in result.report.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m magic_server.client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime-file", help="the server's runtime file (default: the standard place)")
    parser.add_argument("--server", metavar="tcp://HOST:PORT",
                        help="a server on another computer (started with --curve) instead of this computer's")
    parser.add_argument("--server-key", metavar="KEY", help="with --server: the server's public key (it prints it "
                                                            "when it starts)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer")
    sub = parser.add_subparsers(dest="command", required=True)

    submit = sub.add_parser("submit", help="run MAGIC on an image and two masks")
    submit.add_argument("image")
    submit.add_argument("source_mask", help="the object to move or reshape (white = inside)")
    submit.add_argument("target_mask", help="where it should go / its new shape")
    submit.add_argument("--out", required=True, help="folder for composite_<i>.png, edit_mask.png, report.json")
    submit.add_argument("--mode", help="position, shape or scene (server default: position)")
    submit.add_argument("--preset", help="paper, standard, preview or tiny (server default: preview)")
    for name in ("variants", "seed", "iterations", "size"):
        submit.add_argument(f"--{name}", type=int)
    submit.add_argument("--device", help="one of the server's devices")
    submit.add_argument("--no-wait", action="store_true", help="print the job id and return; fetch it later")
    submit.add_argument("--whole", action="store_true",
                        help="send the whole photo, not only the area MAGIC works on (slower over a network)")
    submit.add_argument("--quiet", action="store_true", help="no progress bar")
    submit.add_argument("--start", action="store_true", help="start the server if none is running")
    submit.add_argument("--server-arg", action="append", default=[],
                        help="argument for a server started by --start (repeat), e.g. --server-arg=--device=cpu")

    fetch = sub.add_parser("fetch", help="write a job's results (waits while it runs)")
    fetch.add_argument("job")
    fetch.add_argument("--out", required=True)
    fetch.add_argument("--image", help="the photo the job was cut from: write whole-photo results")
    fetch.add_argument("--quiet", action="store_true")
    for name, text in (("status", "one job's state"), ("cancel", "cancel a job")):
        sub.add_parser(name, help=text).add_argument("job")
    sub.add_parser("jobs", help="all jobs the server knows")
    sub.add_parser("hello", help="what the server offers")
    sub.add_parser("shutdown", help="stop the server (queued jobs resume at its next start)")
    sub.add_parser("key", help="print this computer's public key (made on first use): a studio server's admin "
                               "adds it to the server's --allow-keys file")
    return parser


def _check_server_args(parser, args) -> None:
    if args.server_key and not args.server:
        parser.error("--server-key needs --server")
    if args.server and (args.runtime_file or getattr(args, "start", False)):
        parser.error("--server names a server on another computer: --runtime-file and --start are for this one's")
    if args.server and not args.server.startswith("tcp://"):
        parser.error(f"--server {args.server!r}: expected tcp://HOST:PORT")


def _connect(args) -> MagicClient:
    if args.server:
        return MagicClient.connect_remote(args.server, args.server_key, timeout=args.timeout)
    if getattr(args, "start", False):
        command = [sys.executable, "-m", "magic_server", *args.server_arg]
        return MagicClient.connect_or_start(command, args.runtime_file, timeout=args.timeout)
    return MagicClient.connect(args.runtime_file, timeout=args.timeout)


def _read_inputs(args):
    width, height, image = read_image_rgba(args.image)
    source = read_mask(args.source_mask, "source mask", (width, height))
    target = read_mask(args.target_mask, "target mask", (width, height))
    return width, height, image, source, target


def _submit(args, client: MagicClient, inputs) -> int:
    params = {name: getattr(args, name) for name in ("mode", "preset", "variants", "seed", "iterations", "size",
                                                     "device") if getattr(args, name) is not None}
    sent, placement = (inputs, None) if args.whole else crop_to_region(*inputs, client.info)
    job = client.submit(*sent, params=params, placement=placement)
    print(f"job {job}", flush=True)
    if args.no_wait:
        return 0
    return follow(client, job, Path(args.out), args.quiet, photo_rgba=inputs[2])


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_server_args(parser, args)
    try:
        if args.command == "key":
            print(curve.client_keys().public_text)
            return 0
        inputs = _read_inputs(args) if args.command == "submit" else None  # bad files: no server needed
        with _connect(args) as client:
            if args.command == "submit":
                return _submit(args, client, inputs)
            if args.command == "fetch":
                photo = read_image_rgba(args.image)[2] if args.image else None
                return follow(client, args.job, Path(args.out), args.quiet, photo_rgba=photo)
            if args.command == "status":
                print(json.dumps(client.status(args.job), indent=1))
            elif args.command == "cancel":
                print(f"{args.job}: {client.cancel(args.job)['state']}")
            elif args.command == "jobs":
                for job in client.jobs():
                    print(describe_job(job))
            elif args.command == "hello":
                print(describe_server(client.info))
            elif args.command == "shutdown":
                client.shutdown()
                print("the server is stopping")
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MagicClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
