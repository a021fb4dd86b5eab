"""`python -m magic_server`: start the job server.

Exit codes: 0 stopped normally, 1 the endpoint, runtime file or spool
cannot be used, 2 bad arguments, 3 another server already runs for this
runtime file or spool, 4 the engine could not start, 5 it could not because
the classifier's weights file is not there.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from magic_client import protocol
from magic_client.client import EXIT_ALREADY_RUNNING, EXIT_WEIGHTS_MISSING
from magic_client.paths import default_runtime_file, default_spool_dir

from . import __version__
from .endpoint import DEFAULT_ENDPOINT, EndpointError, check_endpoint
from .logfile import RotatingLogFile
from .runtime_file import AlreadyRunning, RuntimeFile

EXIT_ENGINE_FAILED = 4


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m magic_server", description=(
        "Local MAGIC job server: runs engine jobs for the GIMP plug-in, scripts and other clients "
        "(ZeroMQ protocol v1, see server/PROTOCOL.md)."))
    p.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                   help="tcp://127.0.0.1:PORT (0 picks a free port) or ipc://PATH (default %(default)s)")
    p.add_argument("--curve", action="store_true",
                   help="encrypt every connection and admit only allowed clients (ZeroMQ CURVE); needed for a tcp "
                        "endpoint other machines can reach. The server's key pair is kept in its data folder")
    p.add_argument("--allow-keys", metavar="FILE",
                   help="with --curve: the clients' public keys, one per line (# starts a comment); read again "
                        "when it changes. This user's own client key is always allowed")
    p.add_argument("--device", action="append", dest="devices", metavar="DEVICE",
                   help="auto, cpu, cuda, cuda:N or mps; repeat for one worker per device (default auto)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where jobs run: local (an engine process per --device on this machine) or ray (each "
                        "job a Ray task on any machine of a Ray cluster; needs pip install magic-gimp[cluster]) "
                        "(default %(default)s)")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="with --backend ray: the cluster to join (HOST:PORT of its head, or auto); default: start "
                        "a Ray instance of this machine's own")
    p.add_argument("--ray-slots", type=int, metavar="N",
                   help="with --backend ray: jobs run at once (default: the cluster's GPUs, or 1 without GPUs)")
    p.add_argument("--ray-cpus", type=int, metavar="N",
                   help="with --backend ray and no --ray-address: CPUs of the Ray instance started here "
                        "(default: all)")
    p.add_argument("--ray-cancel-grace", type=float, metavar="SECONDS", default=None,
                   help="with --backend ray: how long a cancelled job's task may take to stop before it is killed "
                        "(default 15; the engine looks for a cancel between its steps and levels)")
    p.add_argument("--classifier", default="auto",
                   help="classifier loaded once per device: auto (installed weights, else random), random:ARCH, "
                        "a torchvision name or a checkpoint path (default %(default)s)")
    p.add_argument("--runtime-file", default=None,
                   help=f"where to publish endpoint, pid and token (default {default_runtime_file()})")
    p.add_argument("--spool", default=None, help=f"job state, inputs and results (default {default_spool_dir()})")
    p.add_argument("--max-queue", type=int, default=32, help="queued jobs accepted at most (default %(default)s)")
    p.add_argument("--max-queue-per-client", type=int, default=None, metavar="N",
                   help="queued jobs accepted from one client (with --curve, one designer's computer) "
                        "(default: --max-queue; with --curve, a quarter of it)")
    p.add_argument("--max-megapixels", type=float, default=protocol.DEFAULT_MAX_PIXELS / 1e6,
                   help="largest image accepted, in MP; also sizes ZMQ_MAXMSGSIZE (default %(default)g)")
    p.add_argument("--keep-results", type=float, default=24.0, metavar="HOURS",
                   help="keep results that were never fetched this long (default %(default)g)")
    p.add_argument("--keep-fetched", type=float, default=600.0, metavar="SECONDS",
                   help="keep results this long after their first fetch (default %(default)g)")
    p.add_argument("--max-results-gb", type=float, default=20.0, metavar="GB",
                   help="results kept at most, all jobs together; above it the longest-fetched are dropped "
                        "first, then the oldest unfetched (default %(default)g)")
    p.add_argument("--max-uploads-gb", type=float, default=4.0, metavar="GB",
                   help="photos kept so that a client's next run on the same photo need not send it again, all "
                        "together; each is kept as long as unfetched results (default %(default)g)")
    p.add_argument("--idle-exit", type=float, default=0.0, metavar="SECONDS",
                   help="stop after this long with no jobs and no requests (default 0: never)")
    p.add_argument("--heartbeat", type=float, default=1.0, metavar="SECONDS",
                   help="heartbeat period to clients waiting on jobs (default %(default)g)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument("--log-file", default=None, metavar="PATH",
                   help="log (and stderr) to this file, rotated by size; default: stderr only")
    p.add_argument("--log-max-mb", type=float, default=5.0, metavar="MB",
                   help="with --log-file: rotate past this size, keeping 3 older files (default %(default)g)")
    p.add_argument("--version", action="version", version=f"magic_server {__version__}, protocol "
                                                          f"{protocol.PROTOCOL_VERSION}")
    return p


def _check_numbers(parser, args) -> None:
    if args.max_queue < 1:
        parser.error("--max-queue must be at least 1")
    if args.max_queue_per_client is not None and args.max_queue_per_client < 1:
        parser.error("--max-queue-per-client must be at least 1")
    if not 0.01 <= args.max_megapixels <= 1000:
        parser.error("--max-megapixels must be within 0.01..1000")
    if args.keep_results <= 0 or args.keep_fetched < 0 or args.idle_exit < 0:
        parser.error("--keep-results must be > 0, --keep-fetched and --idle-exit >= 0")
    if args.backend != "ray" and (args.ray_address or args.ray_slots or args.ray_cpus
                                  or args.ray_cancel_grace is not None):
        parser.error("--ray-address, --ray-slots, --ray-cpus and --ray-cancel-grace need --backend ray")
    if args.ray_cancel_grace is not None and not 0 <= args.ray_cancel_grace <= 3600:
        parser.error("--ray-cancel-grace must be within 0..3600 seconds")
    if args.backend == "ray" and args.devices:
        parser.error("--device is for --backend local; a Ray cluster places each job itself")
    if (args.ray_slots is not None and args.ray_slots < 1) or (args.ray_cpus is not None and args.ray_cpus < 1):
        parser.error("--ray-slots and --ray-cpus must be at least 1")
    if args.log_max_mb <= 0:
        parser.error("--log-max-mb must be > 0")
    if args.max_results_gb <= 0 or args.max_uploads_gb < 0:
        parser.error("--max-results-gb must be > 0, --max-uploads-gb >= 0")
    if not 0.05 <= args.heartbeat <= 60:
        parser.error("--heartbeat must be within 0.05..60 seconds")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_numbers(parser, args)
    handler = (RotatingLogFile(args.log_file, int(args.log_max_mb * 1024 * 1024)) if args.log_file
               else logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler],
                        format="%(asctime)s magic_server %(levelname)s %(message)s")
    log = logging.getLogger("magic_server")
    try:
        endpoint = check_endpoint(args.endpoint, args.curve)
    except EndpointError as exc:
        parser.error(str(exc))
    if args.allow_keys and not args.curve:
        parser.error("--allow-keys needs --curve")
    security = None
    if args.curve:
        from .security import CurveSecurity, KeyProblem, check_allowed_keys_file

        try:
            security = CurveSecurity(check_allowed_keys_file(args.allow_keys) if args.allow_keys else None)
        except KeyProblem as exc:
            parser.error(str(exc))

    # Claim the runtime file and spool before the slow engine start, so a
    # second server says "already running" at once.
    from .spool import Spool

    runtime_file = RuntimeFile(args.runtime_file or default_runtime_file())
    spool = Spool(args.spool or default_spool_dir())
    try:
        runtime_file.claim()
        try:
            spool.claim()
        except BaseException:
            runtime_file.remove()
            raise
    except AlreadyRunning as exc:
        print(f"magic_server: {exc}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    except OSError as exc:
        print(f"magic_server: cannot use the runtime file or spool folder: {exc}", file=sys.stderr)
        return 1
    if runtime_file.stale_pid:
        log.info("taking over the stale runtime file of pid %d (no longer running)", runtime_file.stale_pid)

    # The engine processes start loading torch and the classifier first;
    # this process imports torch for the offer meanwhile (app, engine). On
    # 2 cores that halves the start (3.0 s instead of 5.1 s here).
    from .engine_process import launch_engine_processes

    devices = args.devices or ["auto"]
    launched = launch_engine_processes(args.classifier, devices) if args.backend == "local" else []
    try:
        return _serve(args, endpoint, runtime_file, spool, devices, launched, security)
    finally:
        for process in launched:  # whatever ended the server, no engine process outlives it
            process.close(force=True)


def _serve(args, endpoint, runtime_file, spool, devices, launched, security) -> int:
    log = logging.getLogger("magic_server")
    from .app import Server, Settings

    settings = Settings(endpoint=endpoint, runtime_file=str(runtime_file.path), spool=str(spool.root),
                        max_queue=args.max_queue,
                        max_queue_per_client=args.max_queue_per_client or (max(1, args.max_queue // 4) if args.curve
                                                                           else None),
                        max_pixels=int(args.max_megapixels * 1e6),
                        keep_results_s=args.keep_results * 3600.0, keep_fetched_s=args.keep_fetched,
                        max_result_bytes=int(args.max_results_gb * 1e9),
                        max_upload_bytes=int(args.max_uploads_gb * 1e9),
                        idle_exit_s=args.idle_exit, heartbeat_s=args.heartbeat)
    server = Server(settings, runtime_file, spool, security)
    try:
        server.bind()  # before the slow engine start, so a taken port is reported at once
    except Exception as exc:  # noqa: BLE001 - e.g. the port is in use
        server.abort()
        print(f"magic_server: could not start on {endpoint}: {exc}", file=sys.stderr)
        return 1
    try:
        engine = _start_engine(args, devices, launched)
    except Exception as exc:  # noqa: BLE001 - report any engine start failure in words, then exit
        server.abort()
        print(f"magic_server: the engine could not start: {exc}", file=sys.stderr)
        return EXIT_WEIGHTS_MISSING if getattr(exc, "code", None) == "weights_missing" else EXIT_ENGINE_FAILED
    server.install_signal_handlers()
    try:
        counts = server.start(engine)
    except Exception as exc:  # noqa: BLE001 - e.g. the spool cannot be written
        server.abort()
        print(f"magic_server: could not start: {exc}", file=sys.stderr)
        return 1
    log.info("restored spool %s: %s", spool.root, counts)
    print(f"magic_server {__version__} ready on {server.endpoint} (pid {os.getpid()}, devices "
          f"{', '.join(engine.devices)}, classifier {engine.classifier_info['description']}, runtime file "
          f"{runtime_file.path})", flush=True)
    if security is not None:
        print(f"magic_server: encrypted (CURVE); server key {security.public_key} (clients pass it as "
              f"--server-key)", flush=True)
    server.serve()
    return 0


def _start_engine(args, devices, launched):
    if args.backend == "local":
        from .engine import IsolatedEngine

        return IsolatedEngine(args.classifier, devices, launched=launched)
    try:
        from .ray_backend import CANCEL_GRACE_S, RayEngine
    except ImportError as exc:
        raise RuntimeError(f"--backend ray needs Ray, which is not installed here ({exc}): pip install "
                           f"'magic-gimp[cluster]' on this machine and on every machine of the cluster") from None
    return RayEngine(args.classifier, args.ray_address, args.ray_slots, args.ray_cpus,
                     CANCEL_GRACE_S if args.ray_cancel_grace is None else args.ray_cancel_grace)


if __name__ == "__main__":
    sys.exit(main())
