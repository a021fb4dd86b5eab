"""Command line of the installer: parses options and runs the steps in order.

Steps (all by default; pick some with --only):
  server   venv + torch for this machine + the magic-gimp server package
  weights  the quasi-robust classifier checkpoint(s), verified
  plugin   the GIMP plug-in into every GIMP 3 user folder, pyzmq for GIMP
  service  (with --service) a systemd user unit that keeps the server running
Every step is safe to repeat: finished work is detected and skipped.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import List, Optional

from . import ui
from .errors import ChecksumError, DownloadError, InstallError
from .locations import (CLIENT_SOURCE, DEFAULT_PLUGIN_SOURCE, MANIFEST_PATH, data_dir, default_venv_dir,
                        record_path, short, venv_python)
from .record import InstallRecord

STEPS = ("server", "weights", "plugin", "service")
IDLE_EXIT_SECONDS = 1800


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="install.py",
        description="Install magic-gimp: the server's Python environment, the classifier weights and "
                    "the GIMP 3 plug-in. Safe to run again: it continues where it stopped.",
    )
    mode = p.add_argument_group("what to do")
    mode.add_argument("--only", action="append", choices=STEPS, metavar="STEP",
                      help="run only this step (server, weights, plugin, service); repeatable")
    mode.add_argument("--check", action="store_true", help="print a health report and change nothing")
    mode.add_argument("--start-server", action="store_true",
                      help="with --check: also start the server and ask it for hello")
    mode.add_argument("--uninstall", action="store_true", help="remove what this installer installed")
    mode.add_argument("--service", action="store_true",
                      help="also install a systemd user service that keeps the server running (Linux)")
    mode.add_argument("--list-checkpoints", action="store_true", help="list the known classifier weights")

    gimp = p.add_argument_group("GIMP plug-in")
    gimp.add_argument("--gimp-dir", action="append", type=Path, metavar="DIR",
                      help="GIMP user folder to install into, e.g. ~/.config/GIMP/3.0 (repeatable; "
                           "default: every GIMP 3.x folder found)")
    gimp.add_argument("--plugin-source", type=Path, default=DEFAULT_PLUGIN_SOURCE, metavar="DIR",
                      help="plug-in folder to install (default: the repo's plugin/magic-gimp)")
    gimp.add_argument("--runtime-file", metavar="PATH",
                      help="runtime file the plug-in reads to find the server (default: the client's own)")
    gimp.add_argument("--server-command", metavar="CMD",
                      help="command line the plug-in uses to start the server (default: the venv's "
                           f"python -m magic_server --idle-exit {IDLE_EXIT_SECONDS})")
    gimp.add_argument("--no-vendor-zmq", action="store_true",
                      help="do not check or install pyzmq for GIMP's Python")
    gimp.add_argument("--gimp-python", metavar="CMD",
                      help="the Python GIMP runs plug-ins with, when it cannot be found automatically")
    gimp.add_argument("--gimp-python-version", metavar="X.Y",
                      help="GIMP's Python version, when that Python cannot be run from here")

    weights = p.add_argument_group("classifier weights")
    weights.add_argument("--checkpoint", action="append", metavar="NAME",
                         help="weights to install (default resnet50_l2_eps0.05; also l2:3, linf:4, ...); "
                              "repeatable; see --list-checkpoints")
    weights.add_argument("--mirror", metavar="URL", help="download from URL/<file name> instead")
    weights.add_argument("--weights-from", type=Path, metavar="PATH",
                         help="copy weights from this file or folder instead of downloading (offline)")
    weights.add_argument("--allow-unverified", action="store_true",
                         help="accept weights that have no published sha256 (the computed hash is recorded)")
    weights.add_argument("--manifest", type=Path, default=MANIFEST_PATH, metavar="FILE",
                         help="weights manifest to use (default: magic_common/checkpoints.json; same format "
                              "for a private set of files)")
    weights.add_argument("--stall-timeout", type=float, default=30.0, metavar="SEC",
                         help="retry a download when no byte arrives for this long (default 30)")
    weights.add_argument("--retries", type=int, default=5, metavar="N", help="download retries (default 5)")
    weights.add_argument("--retry-wait", type=float, default=2.0, metavar="SEC",
                         help="first wait between retries, doubled each time (default 2)")

    server = p.add_argument_group("server environment")
    server.add_argument("--venv", type=Path, metavar="DIR", help="server venv (default: <data dir>/venv)")
    server.add_argument("--python", metavar="PATH", help="Python 3.10+ to create the venv with")
    server.add_argument("--torch", choices=("auto", "cpu", "cuda", "default"), default="auto",
                        help="which torch build: auto (default) picks CUDA with an NVIDIA GPU, else CPU; "
                             "macOS always gets the default (MPS) build")
    server.add_argument("--torch-index", metavar="URL", help="pip index to take torch/torchvision from")
    server.add_argument("--skip-torch", action="store_true",
                        help="do not install torch/torchvision (you manage them in the venv yourself)")
    server.add_argument("--wheels", type=Path, metavar="DIR",
                        help="install Python packages only from this folder of wheels (offline machines)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.list_checkpoints:
            from .checkpoints import load_manifest, print_table
            print_table(load_manifest(args.manifest), args.manifest)
            return 0
        if args.check:
            from .doctor import run_doctor
            return run_doctor(args)
        if args.uninstall:
            from .uninstall import uninstall
            return uninstall(record_path())
        return install(args)
    except InstallError as exc:
        print(f"\nerror: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  -> {exc.fix}", file=sys.stderr)
        print("Nothing finished so far is lost: run the same command again after fixing this.",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to continue.", file=sys.stderr)
        return 130
    except OSError as exc:  # full disk, permissions, a file held open by GIMP on Windows...
        print(f"\nerror: {exc}", file=sys.stderr)
        print("Nothing finished so far is lost: fix the cause and run the same command again.", file=sys.stderr)
        return 1


def chosen_steps(args) -> List[str]:
    if args.only:
        steps = list(dict.fromkeys(args.only))
    else:
        steps = ["server", "weights", "plugin"]
    if args.service and "service" not in steps:
        steps.append("service")
    return steps


def install(args) -> int:
    steps = chosen_steps(args)
    record = InstallRecord.load(record_path())
    if record.begin(", ".join(steps)):
        ui.say(f"The previous run did not finish ({record.get('running', '?')}); continuing. "
               "Finished work is kept.")
    venv = args.venv or default_venv_dir()
    args.actions = []  # things only the user can do, repeated at the end
    weights_problem = None
    for step in steps:
        try:
            {"server": step_server, "weights": step_weights, "plugin": step_plugin,
             "service": step_service}[step](args, venv, record)
        except (DownloadError, ChecksumError) as exc:
            # Weights that cannot be fetched now must not strand the user without a plug-in:
            # every other step still runs, and the summary says how to get them.
            weights_problem = exc
            ui.warn(f"the classifier weights were not installed: {exc.message}")
    if weights_problem is not None:
        return _summarise_missing_weights(weights_problem, record)
    record.finish()
    ui.heading("Done")
    for action in args.actions:
        ui.say(f"ACTION NEEDED: {action}")
    ui.say(f"Install record: {short(record.path)} (used by --uninstall). Check with: "
           "python installer/install.py --check")
    return 0


def _summarise_missing_weights(problem: InstallError, record: InstallRecord) -> int:
    ui.heading("Done, except the classifier weights")
    print(f"error: {problem.message}", file=sys.stderr)
    if problem.fix:
        print(f"  -> {problem.fix}", file=sys.stderr)
    print("Everything else is installed. To add the weights, run the installer again with one of:\n"
          "  --weights-from FILE   a copy of the .ckpt file (or a folder holding it), e.g. from another machine\n"
          "  --mirror URL          a server that has the file under its published name\n"
          "  (nothing)             later, when the network is back: the download resumes where it stopped\n"
          "Until then MAGIC runs with an untrained classifier (texture statistics only) and says so on "
          "every run.", file=sys.stderr)
    ui.say(f"Install record: {short(record.path)} (used by --uninstall).")
    return 1


# ---------------------------------------------------------------- steps


def server_command(args, venv: Path, runtime_file: Optional[str] = None, idle_exit: bool = True) -> List[str]:
    """How to start the server. idle_exit: a server GIMP started goes away by
    itself; the always-on user service does not."""
    if args.server_command:
        return shlex.split(args.server_command)
    command = [str(venv_python(venv, windowless=True)), "-m", "magic_server"]
    if runtime_file:
        command += ["--runtime-file", runtime_file]
    if idle_exit:
        command += ["--idle-exit", str(IDLE_EXIT_SECONDS)]
    return command


def flatpak_runtime_file() -> str:
    # The sandbox has its own XDG_RUNTIME_DIR, so the client's default place is not shared with
    # the host: use a file in the data folder, which the GIMP flatpak sees (it has host file access).
    return str(data_dir() / "server.json")


def step_plugin(args, venv: Path, record: InstallRecord) -> None:
    from .gimp_dirs import find_profiles, profile_for_dir
    from .plugin_install import install_plugin, plugin_config

    ui.heading("GIMP plug-in")
    profiles = [profile_for_dir(d) for d in args.gimp_dir] if args.gimp_dir else find_profiles()
    if not profiles:
        raise InstallError(
            "No GIMP 3 user folder was found (looked in the usual places for this system and flatpak).",
            "Install GIMP 3 and start it once, or name the folder: --gimp-dir ~/.config/GIMP/3.0",
        )
    if not args.server_command and not venv_python(venv).exists():
        ui.warn(f"The server is not installed yet ({short(venv)} has no Python); the plug-in will find it "
                "once you run the installer without --only, or with --only server.")
    for profile in profiles:
        flatpak = profile.flavor == "flatpak"
        runtime_file = args.runtime_file or (flatpak_runtime_file() if flatpak else None)
        command = server_command(args, venv, runtime_file)
        if flatpak and not args.server_command:
            # A sandboxed plug-in can only start a host program through flatpak-spawn.
            command = ["flatpak-spawn", "--host"] + command
        config = plugin_config(command, runtime_file)
        target = install_plugin(profile.plugins_dir, args.plugin_source, CLIENT_SOURCE, config, record)
        ui.say(f"{profile.describe()}")
        ui.say(f"  installed {short(target)} (entry point magic-gimp.py, config magic-gimp.json)")
        if flatpak and not args.server_command:
            ui.say("  flatpak GIMP starts the server through flatpak-spawn; allow that once with:")
            ui.say("    flatpak override --user --talk-name=org.freedesktop.Flatpak org.gimp.GIMP")
            ui.say(f"  (or keep the server always on: --service --runtime-file {runtime_file})")
        if not args.no_vendor_zmq:
            _ensure_zmq_for(args, profile, target, venv)


def _ensure_zmq_for(args, profile, target: Path, venv: Path) -> None:
    from .gimp_python import for_profile
    from .pyzmq_vendor import ensure_zmq, pip_command

    gimp_python = for_profile(profile, args.gimp_python, args.gimp_python_version)
    outcome = ensure_zmq(target, profile, gimp_python, pip_command(venv_python(venv)), args.wheels)
    prefix = {"present": "pyzmq: OK.", "vendored": "pyzmq: installed.", "manual": "pyzmq: ACTION NEEDED."}
    ui.say(f"  {prefix[outcome.status]} {outcome.message}")
    if outcome.status == "manual":
        args.actions.append(f"pyzmq for {profile.describe()}: {outcome.message}")


def step_weights(args, venv: Path, record: InstallRecord) -> None:
    from .weights import install_weights

    ui.heading("Classifier weights")
    install_weights(args, record)


def step_server(args, venv: Path, record: InstallRecord) -> None:
    from .server_env import install_server_env

    ui.heading("Server environment")
    install_server_env(args, venv, record)


def step_service(args, venv: Path, record: InstallRecord) -> None:
    from .service import install_service

    ui.heading("Background service")
    command = server_command(args, venv, args.runtime_file, idle_exit=False)
    for line in install_service(command, record):
        ui.say(line)
        if line.startswith("could not enable"):
            args.actions.append("enable the service: systemctl --user enable --now magic-gimp-server.service")
