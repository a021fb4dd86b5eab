"""`python -m magic_client hello|jobs|status JOB|cancel JOB|shutdown`: ask the
running server, with nothing but the standard library and pyzmq (works in
GIMP's Python, and for the installer's checks). Submitting images is
`python -m magic_server.client submit`, which needs Pillow."""

from __future__ import annotations

import argparse
import json
import sys

from .client import MagicClient
from .errors import MagicClientError


def describe_server(info: dict) -> str:
    devices = ", ".join(d["name"] for d in info.get("devices", []))
    classifiers = ", ".join(c["description"] for c in info.get("classifiers", []))
    return (f"MAGIC server {info.get('server_version')} (protocol {info.get('protocol')}, pid {info.get('pid')}) "
            f"on devices {devices}; classifier {classifiers}")


def describe_job(job: dict) -> str:
    return f"{job['id']}  {job['state']:<9} {job['width']}x{job['height']}  {job['message']}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magic_client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime-file", help="the server's runtime file (default: the standard place)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    parser.add_argument("--json", action="store_true", help="print the raw JSON answer")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("hello", help="server version, devices, classifiers, presets")
    sub.add_parser("jobs", help="all jobs the server knows")
    for name in ("status", "cancel"):
        sub.add_parser(name).add_argument("job")
    sub.add_parser("shutdown", help="stop the server (the running job is interrupted; queued jobs resume later)")
    args = parser.parse_args(argv)
    try:
        with MagicClient.connect(args.runtime_file, timeout=args.timeout) as client:
            if args.command == "hello":
                answer = client.info
                text = describe_server(answer)
            elif args.command == "jobs":
                answer = client.jobs()
                text = "\n".join(describe_job(job) for job in answer) or "no jobs"
            elif args.command == "status":
                answer = client.status(args.job)
                text = json.dumps(answer, indent=1)
            elif args.command == "cancel":
                answer = client.cancel(args.job)
                text = f"{args.job}: {answer['state']}" + (" (stopping)" if answer.get("cancel_requested") else "")
            else:
                client.shutdown()
                answer, text = {"ok": True}, "the server is stopping"
    except MagicClientError as exc:
        print(f"magic_client: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
