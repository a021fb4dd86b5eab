"""The server's venv: torch selection, a real venv, and installing this checkout into it offline."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from installer_support import (REPO, installer_env, make_plugin_source, run_installer, sha256,
                                    use_fake_home)

from installer import server_env
from installer.errors import InstallError
from installer.record import InstallRecord
from installer.uninstall import uninstall


@pytest.mark.parametrize("choice, index, platform, nvidia, build, url", [
    ("auto", None, "linux", True, "CUDA", None),
    ("auto", None, "linux", False, "CPU", server_env.CPU_INDEX),
    ("auto", None, "win32", True, "CUDA", server_env.WINDOWS_CUDA_INDEX),
    ("auto", None, "win32", False, "CPU", server_env.CPU_INDEX),
    ("auto", None, "darwin", False, "default (MPS on Apple silicon)", None),
    ("cpu", None, "linux", True, "CPU", server_env.CPU_INDEX),
    ("cuda", None, "linux", False, "CUDA", None),
    ("default", None, "win32", True, "default", None),
    ("auto", "http://mirror/torch", "linux", True, "from --torch-index", "http://mirror/torch"),
])
def test_torch_build_for_the_machine(choice, index, platform, nvidia, build, url):
    plan = server_env.plan_torch(choice, index, platform, nvidia)
    assert (plan.build, plan.index_url) == (build, url)
    assert plan.fallback_to_pypi == (url == server_env.CPU_INDEX)


def test_no_cuda_on_macos():
    with pytest.raises(InstallError, match="no CUDA builds of torch for macOS"):
        server_env.plan_torch("cuda", None, "darwin", False)


def test_server_dependencies_come_from_pyproject_without_torch():
    deps = server_env.server_dependencies()
    names = {d.split(">")[0].split("=")[0].lower() for d in deps}
    assert names == {"numpy", "pillow", "pyzmq"}


@pytest.mark.slow
def test_venv_is_created_recorded_reused_and_uninstalled(tmp_path, monkeypatch):
    use_fake_home(monkeypatch, tmp_path / "home")
    record = InstallRecord.load(tmp_path / "data" / "install-record.json")
    venv = tmp_path / "data" / "venv"
    python = server_env.ensure_venv(venv, sys.executable, record)
    assert python.exists() and (venv / "pyvenv.cfg").is_file()
    assert record.has(venv)
    assert server_env.ensure_venv(venv, sys.executable, record) == python  # reused, not rebuilt

    assert uninstall(record.path) == 0
    assert not venv.exists() and not (tmp_path / "data").exists()


@pytest.mark.slow
def test_our_venv_left_without_pip_is_rebuilt(tmp_path, monkeypatch):
    """A first run without python3-venv leaves a venv whose python works but has no pip;
    every later run used to fail with 'No module named pip'."""
    use_fake_home(monkeypatch, tmp_path / "home")
    record = InstallRecord.load(tmp_path / "data" / "install-record.json")
    venv = tmp_path / "data" / "venv"
    venv.parent.mkdir(parents=True)
    record.add(venv, "tree", "server venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = server_env.ensure_venv(venv, sys.executable, record)
    assert subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True).returncode == 0


def test_broken_foreign_venv_is_not_deleted(tmp_path, monkeypatch):
    use_fake_home(monkeypatch, tmp_path / "home")
    record = InstallRecord.load(tmp_path / "data" / "install-record.json")
    venv = tmp_path / "someone-elses-venv"
    (venv / "lib").mkdir(parents=True)
    with pytest.raises(InstallError, match="did not create it"):
        server_env.ensure_venv(venv, sys.executable, record)
    assert (venv / "lib").is_dir()


def _venv_sharing_this_environment(tmp_path: Path) -> Path:
    """A venv (without its own pip) that sees this test environment's packages except magic-gimp,
    standing in for a venv where torch & co. are already installed."""
    farm = tmp_path / "shared-packages"
    farm.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for item in site.iterdir():
        if item.name.startswith(("magic", "__editable__", "_magic")) or item.suffix == ".pth":
            continue
        (farm / item.name).symlink_to(item)
    venv = tmp_path / "existing-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                                                "['purelib'])"], capture_output=True, text=True)
    (Path(probe.stdout.strip()) / "shared.pth").write_text(str(farm) + "\n")
    return venv


@pytest.mark.slow
def test_offline_server_install_into_an_existing_venv_then_check_starts_it(tmp_path):
    venv = _venv_sharing_this_environment(tmp_path)
    wheels = tmp_path / "wheels"  # nothing in it: every requirement is already satisfied
    wheels.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "run").mkdir()
    env = installer_env(home, MAGIC_GIMP_HOME=str(tmp_path / "data"), XDG_RUNTIME_DIR=str(tmp_path / "run"))

    done = run_installer(["--only", "server", "--venv", venv, "--wheels", wheels, "--skip-torch"], env,
                         timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "already there, kept as is" in done.stdout

    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import json, magic_client, magic_engine, magic_server; print(json.dumps("
                            "[magic_client.__file__, magic_engine.__file__, magic_server.__file__]))"],
                           capture_output=True, text=True, cwd=str(tmp_path))  # not the checkout
    assert where.returncode == 0, where.stderr
    for path in json.loads(where.stdout):
        assert str(venv) in path, "the server venv must hold its own (non-editable) copy"
    assert not (REPO / "build").exists(), "building must not litter the checkout"

    # With the plug-in and weights in place too, the doctor finds nothing missing, and the server
    # starts the way the plug-in would start it and answers hello.
    plugin_src = make_plugin_source(tmp_path)
    gimp_dir = tmp_path / "GIMP" / "3.0"
    assert run_installer(["--only", "plugin", "--gimp-dir", gimp_dir, "--plugin-source", plugin_src,
                          "--venv", venv, "--no-vendor-zmq"], env).returncode == 0
    weights = tmp_path / "resnet50_l2_eps0.05.ckpt"
    weights.write_bytes(b"tiny stand-in weights")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"checkpoints": {"resnet50_l2_eps0.05": {
        "file": "tiny.ckpt", "arch": "resnet50", "urls": [], "sha256": sha256(weights.read_bytes()), "size": None}}}))
    assert run_installer(["--only", "weights", "--manifest", manifest, "--weights-from", weights], env).returncode == 0
    check = run_installer(["--check", "--start-server", "--manifest", manifest, "--gimp-dir", gimp_dir,
                           "--gimp-python", sys.executable], env, timeout=300)
    assert "OK       server                 " in check.stdout
    # The stand-in file is no real checkpoint, so the server runs an untrained classifier: a warning, not OK.
    assert "WARN     server start           answers hello: MAGIC server" in check.stdout
    assert "UNTRAINED" in check.stdout and "--only weights" in check.stdout
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Everything needed is in place." in check.stdout
    assert not list((tmp_path / "run").rglob("server.json")), "the server the check started was stopped"

    record = json.loads((tmp_path / "data" / "install-record.json").read_text())
    assert record["venv"] == str(venv)
    assert all(item["path"] != str(venv) for item in record["items"]), "a venv we did not create is not ours"
    assert run_installer(["--uninstall"], env).returncode == 0
    assert (venv / "pyvenv.cfg").is_file()


def test_doctor_marks_an_untrained_classifier_as_warn_and_real_weights_as_ok():
    from installer.doctor import _hello_line

    trained = {"server_version": "0.1.0", "protocol": 1,
               "classifiers": [{"name": "auto", "description": "resnet50 from resnet50_l2_eps0.05.ckpt"}]}
    untrained = {"server_version": "0.1.0", "protocol": 1, "classifiers": [
        {"name": "auto", "description": "random resnet50", "warning": "using an UNTRAINED resnet50"}]}
    assert _hello_line(json.dumps(trained)).status == "OK"
    line = _hello_line(json.dumps(untrained))
    assert line.status == "WARN" and "UNTRAINED" in line.detail and "--only weights" in line.fix
    assert _hello_line("not json").status == "WARN"
