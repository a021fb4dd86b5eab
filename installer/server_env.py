"""The server's Python environment: a venv, torch for this machine, the server.

Order inside the venv:
  1. torch + torchvision from the index that suits the machine
     (NVIDIA GPU -> CUDA build; none -> CPU build; macOS -> default/MPS build)
  2. the server's other dependencies (numpy, pillow, pyzmq; read from pyproject.toml)
  3. magic-gimp itself, non-editable, always reinstalled so the venv runs this checkout
`--wheels DIR` makes every step offline (pip --no-index --find-links DIR).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from . import ui
from .errors import InstallError
from .locations import PYPROJECT_PATH, REPO_ROOT, short, venv_python
from .record import InstallRecord, make_dirs

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# PyTorch's PyPI wheels for Windows are CPU-only; CUDA builds come from its own index.
# torch 2.14/2.15 ship CUDA 13.0 builds; override with --torch-index for another CUDA.
WINDOWS_CUDA_INDEX = "https://download.pytorch.org/whl/cu130"
TORCH_PACKAGES = ("torch", "torchvision")
MIN_PYTHON = (3, 10)  # pyproject's requires-python


@dataclass
class TorchPlan:
    build: str  # "CUDA", "CPU", "default (MPS on Apple silicon)", "from --torch-index"
    index_url: Optional[str]  # None: the user's default index (PyPI)
    reason: str
    fallback_to_pypi: bool = False


def has_nvidia_gpu() -> bool:
    if not shutil.which("nvidia-smi"):
        return False
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and "GPU" in done.stdout


def plan_torch(choice: str, index: Optional[str], platform: str, nvidia: bool) -> TorchPlan:
    """Which torch build to install. `choice` is --torch: auto | cpu | cuda | default."""
    if index:
        return TorchPlan("from --torch-index", index, f"--torch-index {index}")
    if platform == "darwin":
        if choice == "cuda":
            raise InstallError("There are no CUDA builds of torch for macOS.",
                               "Leave out --torch; the default build uses the Apple GPU (MPS).")
        return TorchPlan("default (MPS on Apple silicon)", None, "macOS")
    if choice == "auto":
        choice = "cuda" if nvidia else "cpu"
        why = "NVIDIA GPU found (nvidia-smi)" if nvidia else "no NVIDIA GPU found"
    else:
        why = f"--torch {choice}"
    if choice == "cpu":
        return TorchPlan("CPU", CPU_INDEX, why, fallback_to_pypi=True)
    if choice == "cuda" and platform == "win32":
        return TorchPlan("CUDA", WINDOWS_CUDA_INDEX, why)
    if choice == "cuda":
        return TorchPlan("CUDA", None, why)  # PyPI's Linux wheels are the CUDA build
    return TorchPlan("default", None, why)


def index_reachable(url: str, timeout: float = 15) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/torch/", timeout=timeout) as response:
            return response.status == 200
    except Exception:  # noqa: BLE001 - any failure means "use the fallback"
        return False


def server_dependencies(pyproject: Path = PYPROJECT_PATH) -> List[str]:
    """[project] dependencies except torch/torchvision (installed in their own step)."""
    text = pyproject.read_text(encoding="utf-8")
    match = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
    if not match:
        return []
    deps = re.findall(r"[\"']([^\"']+)[\"']", match.group(1))
    return [d for d in deps if re.split(r"[<>=!~;\[ ]", d, 1)[0].strip().lower() not in TORCH_PACKAGES]


# ---------------------------------------------------------------- the venv


def base_python(explicit: Optional[str]) -> str:
    """A Python 3.10+ to build the venv from (this one when it is new enough)."""
    if explicit:
        return explicit
    if sys.version_info[:2] >= MIN_PYTHON:
        return sys.executable
    for minor in range(14, MIN_PYTHON[1] - 1, -1):
        found = shutil.which(f"python3.{minor}")
        if found:
            return found
    raise InstallError(
        f"The server needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is "
        f"{sys.version.split()[0]} and no newer python3.x is on PATH.",
        "Install Python 3.12 (python.org, or your package manager) and pass --python /path/to/python3.12",
    )


def _python_works(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", "import sys"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _pip_works(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True,
                              timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def ensure_venv(venv: Path, python: str, record: InstallRecord) -> Path:
    """The venv's python; creates the venv unless a working one is there already.
    One of ours without a working pip (an earlier run where venv could not
    install pip, e.g. python3-venv missing) is rebuilt, never reused."""
    vpy = venv_python(venv)
    if vpy.exists() and _python_works(vpy):
        if record.has(venv) and not _pip_works(vpy):
            ui.say(f"venv {short(venv)} has no working pip (left by an earlier run that stopped half-way); "
                   "rebuilding it")
            shutil.rmtree(venv)
        else:
            owner = "created by this installer" if record.has(venv) else "already there, kept as is"
            ui.say(f"venv {short(venv)} ({owner})")
            return vpy
    if venv.exists():
        if not record.has(venv):
            raise InstallError(f"{short(venv)} exists but is not a working venv, and this installer did not "
                               "create it, so it will not delete it.",
                               "Remove it yourself, or choose another folder with --venv DIR.")
        shutil.rmtree(venv)  # ours, from a run that died while creating it
    make_dirs(venv.parent, record, "data folder")
    record.add(venv, "tree", "server venv")  # before creating: a half-made venv is still ours
    ui.say(f"creating venv {short(venv)} with {python}")
    done = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        fix = "Check that this Python can create virtual environments."
        if "ensurepip" in detail or "venv" in detail:
            fix = ("On Debian/Ubuntu: sudo apt install python3-venv (or python3.X-venv for your version), "
                   "then run the installer again.")
        raise InstallError(f"Creating the venv failed: {detail.splitlines()[-1] if detail else done.returncode}",
                           fix)
    return vpy


# ---------------------------------------------------------------- pip


def _pip(vpy: Path, args: List[str], wheels: Optional[Path], what: str, quiet_ok: bool = False) -> bool:
    cmd = [str(vpy), "-m", "pip", "install", "--disable-pip-version-check"]
    if wheels is not None:
        cmd += ["--no-index", "--find-links", str(wheels)]
    cmd += args
    ui.say(f"pip: {what}")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode == 0:
        return True
    if quiet_ok:
        return False
    tail = "\n      ".join((done.stderr or done.stdout).strip().splitlines()[-6:])
    raise InstallError(f"pip could not install {what}:\n      {tail}",
                       "Fix the cause above (network, disk space, proxy: see pip's message) and run again; "
                       "for offline machines see --wheels DIR.")


def installed_versions(vpy: Path, names) -> dict:
    code = ("import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    done = subprocess.run([str(vpy), "-c", code, *names], capture_output=True, text=True)
    if done.returncode != 0:
        return {}
    import json
    return json.loads(done.stdout or "{}")


def install_torch(vpy: Path, args, wheels: Optional[Path]) -> None:
    have = installed_versions(vpy, TORCH_PACKAGES)
    explicit = args.torch != "auto" or args.torch_index
    if len(have) == len(TORCH_PACKAGES) and not explicit:
        ui.say(f"torch {have['torch']} and torchvision {have['torchvision']} already installed; kept "
               "(pass --torch cpu|cuda|default to replace them)")
        return
    plan = plan_torch(args.torch, args.torch_index, sys.platform, has_nvidia_gpu())
    ui.say(f"torch build: {plan.build} ({plan.reason})")
    extra = ["--force-reinstall"] if have else []
    if wheels is not None:
        _pip(vpy, extra + list(TORCH_PACKAGES), wheels, f"torch, torchvision from {short(wheels)}")
        return
    index = plan.index_url
    if index and plan.fallback_to_pypi and not index_reachable(index):
        ui.warn(f"The PyTorch CPU index {index} cannot be reached; installing torch from PyPI instead "
                "(on Linux that is the larger CUDA build, which also runs on the CPU).")
        index = None
    index_args = ["--index-url", index] if index else []
    size_note = " (large download: expect minutes)"
    if _pip(vpy, extra + index_args + list(TORCH_PACKAGES), None,
            f"torch, torchvision from {index or 'the default index (PyPI)'}{size_note}", quiet_ok=bool(index)):
        return
    if index and plan.fallback_to_pypi:
        ui.warn(f"Installing from {index} failed; trying PyPI instead.")
        _pip(vpy, extra + list(TORCH_PACKAGES), None, "torch, torchvision from PyPI")
        return
    _pip(vpy, extra + index_args + list(TORCH_PACKAGES), None, f"torch, torchvision from {index}")


def _staged_source(tmp: Path) -> Path:
    """A clean copy of the packages to build from (keeps build/ and egg-info out of the checkout)."""
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "MANIFEST.in"):
        if (REPO_ROOT / name).is_file():
            shutil.copy2(REPO_ROOT / name, src / name)
    if not (src / "README.md").exists():
        (src / "README.md").write_text("magic-gimp\n", encoding="utf-8")  # pyproject names it
    for package in ("magic_common", "magic_engine", "magic_client", "server"):
        shutil.copytree(REPO_ROOT / package, src / package, ignore=ignore)
    return src


def install_server_package(vpy: Path, wheels: Optional[Path]) -> None:
    deps = server_dependencies()
    if deps:
        _pip(vpy, deps, wheels, ", ".join(deps))
    build_args: List[str] = []
    if wheels is not None:
        # Offline there is no index for an isolated build: build with the venv's own setuptools.
        _pip(vpy, ["setuptools>=68"], wheels, "setuptools (to build magic-gimp offline)")
        build_args = ["--no-build-isolation"]
    with tempfile.TemporaryDirectory(prefix="magic-gimp-build-") as tmp:
        src = _staged_source(Path(tmp))
        _pip(vpy, ["--no-deps", "--force-reinstall"] + build_args + [str(src)], wheels,
             "magic-gimp (engine, server, client) from this checkout")


def install_server_env(args, venv: Path, record: InstallRecord) -> Path:
    vpy = ensure_venv(venv, base_python(args.python), record)
    if args.skip_torch:
        ui.say("torch: skipped (--skip-torch); the server needs torch and torchvision in this venv")
    else:
        install_torch(vpy, args, args.wheels)
    install_server_package(vpy, args.wheels)
    versions = installed_versions(vpy, ("magic-gimp", "torch", "torchvision", "pyzmq"))
    ui.say("installed: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    record.set("venv", str(venv))
    return vpy
