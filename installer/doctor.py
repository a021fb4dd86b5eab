"""`--check`: one line per item, OK / MISSING / WARN / FAIL / INFO, each with what to do.

Read-only: it changes nothing (with --start-server it starts the server for
the test and stops it again if it was not already running).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from .checkpoints import default_name, load_manifest
from .download import sha256_of
from .errors import InstallError
from .gimp_dirs import find_profiles, gimp_binaries, binary_version, flatpak_version, profile_for_dir
from .gimp_python import for_profile, probe
from .locations import default_venv_dir, record_path, short, venv_python, weights_dir
from .plugin_install import VENDOR_NAME, plugin_problems, read_config
from .pyzmq_vendor import LINUX_PACKAGES
from .record import InstallRecord
from .service import UNIT_NAME, service_state

INSTALL = "python installer/install.py"
BAD = ("MISSING", "FAIL")


@dataclass
class Line:
    status: str  # OK | MISSING | WARN | FAIL | INFO
    item: str
    detail: str
    fix: Optional[str] = None


def _run(cmd: List[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", f"no answer within {timeout:.0f}s")
    except OSError as exc:
        return subprocess.CompletedProcess(cmd, 127, "", str(exc))


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


# ---------------------------------------------------------------- checks


def check_record(record: Optional[InstallRecord]) -> List[Line]:
    if record is None:
        return [Line("INFO", "install record", "none yet (nothing installed by this installer)")]
    if record.state == "incomplete":
        return [Line("WARN", "install record", f"the last run ({record.get('running', '?')}) did not finish",
                     f"Run {INSTALL} again: it continues where it stopped.")]
    return [Line("OK", "install record", short(record.path))]


def check_gimp(args, record: Optional[InstallRecord] = None) -> tuple:
    lines = []
    binaries = [(b, binary_version(b)) for b in gimp_binaries()]
    gimp3 = [(b, v) for b, v in binaries if v]
    flatpak = flatpak_version()
    if gimp3:
        lines.append(Line("OK", "GIMP 3 program", ", ".join(f"{b} ({v})" for b, v in gimp3)))
    if flatpak:
        lines.append(Line("OK", "GIMP 3 program", f"flatpak org.gimp.GIMP ({flatpak})"))
    if not gimp3 and not flatpak:
        lines.append(Line("WARN", "GIMP 3 program", "not found on PATH or as a flatpak",
                          "Install GIMP 3 (gimp.org, your distribution, or: flatpak install flathub "
                          "org.gimp.GIMP). Ignore this if GIMP lives somewhere unusual."))
    profiles = [profile_for_dir(d) for d in args.gimp_dir] if args.gimp_dir else find_profiles()
    if not args.gimp_dir and record is not None:
        # Folders the plug-in was installed into with --gimp-dir are checked too.
        known = {p.plugin_dir for p in profiles}
        for entry in record.plugins():
            plugin_dir = Path(entry["dir"])
            if plugin_dir not in known and plugin_dir.parent.name == "plug-ins":
                profiles.append(profile_for_dir(plugin_dir.parent.parent))
    if not profiles:
        lines.append(Line("MISSING", "GIMP user folder", "no GIMP 3.x user folder found",
                          f"Start GIMP 3 once, then run {INSTALL} --only plugin (or pass --gimp-dir DIR)."))
    for profile in profiles:
        state = "" if profile.config_dir.is_dir() else " (not created yet: start GIMP once)"
        lines.append(Line("OK" if not state else "WARN", "GIMP user folder", profile.describe() + state))
    return lines, profiles


def check_plugin(profile) -> List[Line]:
    plugin_dir = profile.plugin_dir
    problems = plugin_problems(plugin_dir)
    if problems and not plugin_dir.exists():
        return [Line("MISSING", "plug-in", f"not installed in {short(profile.plugins_dir)}",
                     f"Run {INSTALL} --only plugin")]
    if problems:
        return [Line("FAIL", "plug-in", f"{short(plugin_dir)}: " + "; ".join(problems),
                     f"Run {INSTALL} --only plugin to reinstall it.")]
    lines = [Line("OK", "plug-in", f"{short(plugin_dir)} (entry point executable, config valid)")]
    command = read_config(plugin_dir)["server_command"]
    program = [c for c in command if c not in ("flatpak-spawn", "--host")][:1]
    if program and os.path.isabs(program[0]) and not Path(program[0]).exists():
        lines.append(Line("MISSING", "plug-in server command", f"{program[0]} does not exist",
                          f"Run {INSTALL} --only server (or reinstall the plug-in with --server-command)."))
    return lines


def check_zmq(profile, args) -> List[Line]:
    gimp_python = for_profile(profile, args.gimp_python, args.gimp_python_version)
    vendor = profile.plugin_dir / VENDOR_NAME
    found = probe(gimp_python, extra_path=vendor if vendor.is_dir() else None)
    where = f"{profile.flavor} {profile.version}"
    if found.ran and found.zmq_version:
        origin = "vendored next to the plug-in" if vendor.is_dir() else "installed in GIMP's Python"
        return [Line("OK", "pyzmq for GIMP", f"{where}: pyzmq {found.zmq_version} ({origin}), "
                                             f"Python {found.version}")]
    if found.ran:
        fix = (f"Run {INSTALL} --only plugin (it puts a matching pyzmq next to the plug-in), or install "
               f"it system-wide: {LINUX_PACKAGES}" if sys.platform.startswith("linux")
               else f"Run {INSTALL} --only plugin (it puts a matching pyzmq next to the plug-in).")
        return [Line("MISSING", "pyzmq for GIMP", f"{where}: GIMP's Python {found.version} "
                                                  f"({gimp_python.description}) cannot import zmq", fix)]
    return [Line("WARN", "pyzmq for GIMP", f"{where}: unknown, {gimp_python.description} cannot be run "
                                           f"from here ({found.error or 'not found'})",
                 "In GIMP open Filters > Development > Python-Fu > Python Console and type `import zmq`. "
                 f"If that fails: {INSTALL} --only plugin --gimp-python-version X.Y (X.Y = the version the "
                 "console prints).")]


def check_server_env(venv: Path) -> List[Line]:
    vpy = venv_python(venv)
    if not vpy.exists():
        return [Line("MISSING", "server venv", f"{short(venv)} has no Python", f"Run {INSTALL} --only server")]
    done = _run([str(vpy), "-m", "magic_server", "--help"], timeout=300)
    if done.returncode != 0:
        return [Line("FAIL", "server", f"`python -m magic_server --help` failed: "
                                      f"{_last_line(done.stderr or done.stdout)}",
                     f"Run {INSTALL} --only server to repair the venv {short(venv)}.")]
    return [Line("OK", "server", f"{short(venv)}: python -m magic_server runs")]


def check_weights(record: Optional[InstallRecord], manifest_path: Path) -> List[Line]:
    manifest = load_manifest(manifest_path)
    recorded = record.weights() if record else {}
    names = list(recorded) or [default_name(manifest_path)]
    lines = []
    for name in names:
        entry = manifest.get(name)
        info = recorded.get(name, {})
        path = Path(info.get("file") or weights_dir() / (entry.file if entry else name))
        if not path.is_file():
            lines.append(Line("MISSING", "weights", f"{name}: {short(path)} not found (the engine would fall "
                                                    "back to an untrained network)",
                              f"Run {INSTALL} --only weights"))
            continue
        digest = sha256_of(path)
        if entry and entry.sha256:
            ok = digest == entry.sha256
            lines.append(Line("OK" if ok else "FAIL", "weights",
                              f"{name}: {short(path)} " + ("sha256 verified" if ok else
                                                           f"sha256 {digest} is not the published one"),
                              None if ok else f"Delete {short(path)} and run {INSTALL} --only weights"))
        elif info.get("sha256") == digest:
            lines.append(Line("WARN", "weights", f"{name}: {short(path)} unverified (no published sha256); "
                                                 "unchanged since it was installed"))
        else:
            lines.append(Line("FAIL", "weights", f"{name}: {short(path)} changed since it was installed",
                              f"Delete it and run {INSTALL} --only weights --allow-unverified"))
    return lines


def check_gpu(venv: Path) -> List[Line]:
    lines = []
    smi = _run(["nvidia-smi", "-L"], timeout=30) if shutil.which("nvidia-smi") else None
    gpus = [g for g in (smi.stdout.splitlines() if smi and smi.returncode == 0 else []) if g.strip()]
    lines.append(Line("INFO", "GPU", gpus[0] if gpus else "no NVIDIA GPU found (nvidia-smi)"))
    vpy = venv_python(venv)
    if not vpy.exists():
        return lines
    code = ("import torch, json\n"
            "mps = getattr(torch.backends, 'mps', None)\n"
            "print(json.dumps({'torch': torch.__version__, 'cuda': torch.cuda.is_available(),\n"
            "  'name': torch.cuda.get_device_name(0) if torch.cuda.is_available() else '',\n"
            "  'mps': bool(mps and mps.is_available())}))")
    done = _run([str(vpy), "-c", code], timeout=300)
    if done.returncode != 0:
        lines.append(Line("MISSING", "torch", f"not importable in {short(venv)}: {_last_line(done.stderr)}",
                          f"Run {INSTALL} --only server"))
        return lines
    info = json.loads(_last_line(done.stdout))
    if info["cuda"]:
        lines.append(Line("OK", "torch", f"{info['torch']} uses the GPU: {info['name']}"))
    elif info["mps"]:
        lines.append(Line("OK", "torch", f"{info['torch']} uses the Apple GPU (MPS)"))
    elif gpus:
        lines.append(Line("WARN", "torch", f"{info['torch']} cannot use the NVIDIA GPU (CPU build or driver "
                                           "too old)", f"Run {INSTALL} --only server --torch cuda"))
    else:
        lines.append(Line("INFO", "torch", f"{info['torch']} on the CPU (works; a GPU is much faster)"))
    return lines


def check_service(record: Optional[InstallRecord]) -> List[Line]:
    if not record or not any(i["kind"] == "service" for i in record.items()):
        return []
    state = service_state()
    if state == "active":
        return [Line("OK", "service", f"{UNIT_NAME} is running")]
    return [Line("WARN", "service", f"{UNIT_NAME}: {state or 'systemctl --user cannot tell'}",
                 f"systemctl --user enable --now {UNIT_NAME}; logs: journalctl --user -u {UNIT_NAME}")]


def check_server_start(venv: Path, profiles) -> List[Line]:
    """Start the server the way the plug-in would, and ask it for hello."""
    vpy = venv_python(venv)
    configs = [read_config(p.plugin_dir) for p in profiles if not plugin_problems(p.plugin_dir)]
    if not vpy.exists():
        return [Line("MISSING", "server start", "no server venv to start", f"Run {INSTALL} --only server")]
    config = configs[0] if configs else {"server_command": [str(vpy), "-m", "magic_server"], "runtime_file": None}
    runtime = config.get("runtime_file")
    if not runtime:
        done = _run([str(vpy), "-c", "from magic_client.paths import default_runtime_file as f; print(f())"], 60)
        runtime = _last_line(done.stdout)
    command = [c for c in config["server_command"] if c not in ("flatpak-spawn", "--host")]
    started = None
    with tempfile.TemporaryFile("w+") as log:
        try:
            if not Path(runtime).exists():
                started = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
                deadline = time.monotonic() + 120
                while not Path(runtime).exists() and started.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.5)
                if not Path(runtime).exists():
                    log.seek(0)
                    return [Line("FAIL", "server start", f"`{' '.join(command)}` did not come up: "
                                                         f"{_last_line(log.read()) or 'no output'}",
                                 f"Run that command in a terminal to see why; then {INSTALL} --only server")]
            hello = _run([str(vpy), "-m", "magic_client", "--runtime-file", str(runtime), "--timeout", "30",
                          "--json", "hello"], timeout=90)
            if hello.returncode == 0:
                return [_hello_line(_last_line(hello.stdout))]
            if "No module named" in hello.stderr:
                return [Line("WARN", "server start", "the server started, but this magic_client has no "
                                                     "`python -m magic_client hello` to ask it")]
            return [Line("FAIL", "server start", f"no hello: {_last_line(hello.stderr or hello.stdout)}",
                         f"See the server's log next to {runtime}")]
        finally:
            if started is not None and started.poll() is None:
                started.terminate()
                try:
                    started.wait(15)
                except subprocess.TimeoutExpired:
                    started.kill()
                    started.wait()


def _hello_line(answer: str) -> Line:
    """OK for a server that answers with a trained classifier; WARN when it runs
    an untrained one (it works, but its results carry no semantics)."""
    try:
        info = json.loads(answer)
    except ValueError:
        return Line("WARN", "server start", f"answers, but not with JSON: {answer[:200]}")
    versions = f"MAGIC server {info.get('server_version')} (protocol {info.get('protocol')})"
    classifiers = info.get("classifiers") or [{}]
    warnings = [c["warning"] for c in classifiers if c.get("warning")]
    described = ", ".join(str(c.get("description", "?")) for c in classifiers)
    if warnings:
        return Line("WARN", "server start", f"answers hello: {versions}, but: {warnings[0]}",
                    f"Install the weights: {INSTALL} --only weights (or --weights-from FILE)")
    return Line("OK", "server start", f"answers hello: {versions}, classifier {described}")


# ---------------------------------------------------------------- report


def run_doctor(args) -> int:
    record = None
    lines: List[Line] = []
    if record_path().exists():
        try:
            record = InstallRecord.load(record_path())
        except InstallError as exc:
            lines.append(Line("FAIL", "install record", exc.message, exc.fix))
    venv = args.venv or (Path(record.get("venv")) if record and record.get("venv") else default_venv_dir())
    lines += check_record(record) if not lines else []
    gimp_lines, profiles = check_gimp(args, record)
    lines += gimp_lines
    for profile in profiles:
        lines += check_plugin(profile)
        if profile.plugin_dir.is_dir():
            lines += check_zmq(profile, args)
    lines += check_server_env(venv)
    if args.start_server:
        lines += check_server_start(venv, profiles)
    lines += check_weights(record, args.manifest)
    lines += check_gpu(venv)
    lines += check_service(record)

    print("magic-gimp check")
    for line in lines:
        print(f"{line.status:<8} {line.item:<22} {line.detail}")
        if line.fix:
            print(f"{'':<8} {'':<22} -> {line.fix}")
    bad = [line for line in lines if line.status in BAD]
    print(f"\n{len(bad)} problem(s) found." if bad else "\nEverything needed is in place.")
    return 1 if bad else 0
