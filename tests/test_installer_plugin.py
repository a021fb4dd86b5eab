"""Installing the GIMP plug-in into fake GIMP 3 user folders (real files, real subprocess)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from installer_support import (REPO, fake_gimp_dirs, installer_env, make_plugin_source,
                                    run_installer)


def _assert_good_plugin(plugin_dir: Path, expected_command=None):
    entry = plugin_dir / "magic-gimp.py"
    assert entry.is_file()
    assert os.access(entry, os.X_OK), "GIMP ignores a non-executable entry point"
    assert (plugin_dir / "dialogs.py").read_text() == "LABEL = 'MAGIC'\n"
    assert not (plugin_dir / "__pycache__").exists()
    client = plugin_dir / "magic_client" / "__init__.py"
    assert client.read_bytes() == (REPO / "magic_client" / "__init__.py").read_bytes()
    config = json.loads((plugin_dir / "magic-gimp.json").read_text())
    assert set(config) == {"version", "runtime_file", "server_command", "vendor_dir"}
    assert config["vendor_dir"] == "vendor"
    if expected_command is not None:
        assert config["server_command"] == expected_command
    return config


def test_only_plugin_into_given_dir_installs_plugin_and_config_and_nothing_else(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    src = make_plugin_source(tmp_path)
    gimp_dir = tmp_path / "gimp-profile"
    data = tmp_path / "data"
    env = installer_env(home, MAGIC_GIMP_HOME=str(data))

    done = run_installer(["--only", "plugin", "--gimp-dir", gimp_dir, "--plugin-source", src,
                          "--runtime-file", tmp_path / "rt.json",
                          "--server-command", "/opt/py/bin/python -m magic_server --port 0",
                          "--no-vendor-zmq"], env)
    assert done.returncode == 0, done.stderr + done.stdout

    plugin_dir = gimp_dir / "plug-ins" / "magic-gimp"
    config = _assert_good_plugin(plugin_dir, ["/opt/py/bin/python", "-m", "magic_server", "--port", "0"])
    assert config["runtime_file"] == str(tmp_path / "rt.json")
    assert sorted(p.name for p in plugin_dir.iterdir()) == ["dialogs.py", "magic-gimp.json", "magic-gimp.py",
                                                           "magic_client", "magic_common"]
    # Nothing outside the plug-in folder except the install record.
    assert sorted(p.name for p in (gimp_dir / "plug-ins").iterdir()) == ["magic-gimp"]
    assert sorted(p.name for p in data.iterdir()) == ["install-record.json"]
    assert list(home.iterdir()) == []


def test_an_update_makes_gimp_read_the_plug_ins_arguments_again(tmp_path):
    # GIMP re-reads a plug-in's procedures only when its entry file's time changes;
    # an update that changed only the modules beside it must still change it.
    src = make_plugin_source(tmp_path)
    long_ago = 1_000_000_000
    os.utime(src / "magic-gimp.py", (long_ago, long_ago))
    gimp_dir = tmp_path / "gimp-profile"
    env = installer_env(tmp_path / "home", MAGIC_GIMP_HOME=str(tmp_path / "data"))
    times = []
    for _ in range(2):
        done = run_installer(["--only", "plugin", "--gimp-dir", gimp_dir, "--plugin-source", src,
                              "--no-vendor-zmq"], env)
        assert done.returncode == 0, done.stderr + done.stdout
        times.append((gimp_dir / "plug-ins" / "magic-gimp" / "magic-gimp.py").stat().st_mtime_ns)
    assert times[0] > long_ago * 10**9 and times[1] > times[0]


def test_default_config_points_at_the_server_venv(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    src = make_plugin_source(tmp_path)
    env = installer_env(home, MAGIC_GIMP_HOME=str(tmp_path / "data"))
    done = run_installer(["--only", "plugin", "--gimp-dir", tmp_path / "g", "--plugin-source", src,
                          "--no-vendor-zmq"], env)
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "g" / "plug-ins" / "magic-gimp" / "magic-gimp.json").read_text())
    assert config["server_command"] == [str(tmp_path / "data" / "venv" / "bin" / "python"), "-m",
                                        "magic_server", "--idle-exit", "1800"]
    assert config["runtime_file"] is None
    assert "server is not installed yet" in done.stdout


def test_finds_native_and_flatpak_gimp_and_rerun_is_idempotent(tmp_path):
    home = tmp_path / "home"
    dirs = fake_gimp_dirs(home)
    other = dirs["native"] / "plug-ins" / "someone-elses-plugin"
    other.mkdir()
    (other / "someone-elses-plugin.py").write_text("# keep me\n")
    src = make_plugin_source(tmp_path)
    env = installer_env(home)

    first = run_installer(["--only", "plugin", "--plugin-source", src, "--no-vendor-zmq"], env)
    assert first.returncode == 0, first.stderr + first.stdout
    native = _assert_good_plugin(dirs["native"] / "plug-ins" / "magic-gimp")
    flatpak = _assert_good_plugin(dirs["flatpak"] / "plug-ins" / "magic-gimp")
    venv_py = str(home / ".local" / "share" / "magic-gimp" / "venv" / "bin" / "python")
    assert native["server_command"][0] == venv_py
    runtime = str(home / ".local" / "share" / "magic-gimp" / "server.json")
    assert flatpak["server_command"] == ["flatpak-spawn", "--host", venv_py, "-m", "magic_server",
                                         "--runtime-file", runtime, "--idle-exit", "1800"]
    assert flatpak["runtime_file"] == runtime  # the sandbox cannot see the host's XDG_RUNTIME_DIR
    assert native["runtime_file"] is None
    assert "flatpak override --user --talk-name=org.freedesktop.Flatpak org.gimp.GIMP" in first.stdout

    # A second run replaces the folder in place: same result, nothing stale, other plug-ins untouched.
    (dirs["native"] / "plug-ins" / "magic-gimp" / "stale.py").write_text("old file from an older version")
    second = run_installer(["--only", "plugin", "--plugin-source", src, "--no-vendor-zmq"], env)
    assert second.returncode == 0, second.stderr
    _assert_good_plugin(dirs["native"] / "plug-ins" / "magic-gimp")
    assert not (dirs["native"] / "plug-ins" / "magic-gimp" / "stale.py").exists()
    assert (other / "someone-elses-plugin.py").read_text() == "# keep me\n"
    assert sorted(p.name for p in (dirs["native"] / "plug-ins").iterdir()) == ["magic-gimp",
                                                                               "someone-elses-plugin"]
    record = json.loads((home / ".local/share/magic-gimp/install-record.json").read_text())
    assert record["state"] == "complete"
    trees = [i["path"] for i in record["items"] if i["kind"] == "tree"]
    assert trees == [str(dirs["native"] / "plug-ins" / "magic-gimp"),
                     str(dirs["flatpak"] / "plug-ins" / "magic-gimp")]


def test_missing_entry_point_is_a_clear_error_and_changes_nothing(tmp_path):
    home = tmp_path / "home"
    dirs = fake_gimp_dirs(home)
    empty_src = tmp_path / "empty" / "magic-gimp"
    empty_src.mkdir(parents=True)
    done = run_installer(["--only", "plugin", "--plugin-source", empty_src, "--no-vendor-zmq"],
                         installer_env(home))
    assert done.returncode == 1
    assert "has no magic-gimp.py" in done.stderr
    assert list((dirs["native"] / "plug-ins").iterdir()) == []


def test_symlinked_development_plugin_is_left_alone(tmp_path):
    home = tmp_path / "home"
    dirs = fake_gimp_dirs(home)
    src = make_plugin_source(tmp_path)
    link = dirs["native"] / "plug-ins" / "magic-gimp"
    link.symlink_to(src)
    done = run_installer(["--only", "plugin", "--gimp-dir", dirs["native"], "--plugin-source", src,
                          "--no-vendor-zmq"], installer_env(home))
    assert done.returncode == 1
    assert "symbolic link" in done.stderr
    assert link.is_symlink() and (src / "magic-gimp.py").exists()


def test_no_gimp_found_says_what_to_do(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = installer_env(home, PATH=str(tmp_path / "empty-bin"))  # no gimp, no flatpak on PATH
    done = run_installer(["--only", "plugin", "--plugin-source", make_plugin_source(tmp_path),
                          "--no-vendor-zmq"], env)
    assert done.returncode == 1
    assert "No GIMP 3 user folder was found" in done.stderr
    assert "--gimp-dir" in done.stderr


def _fake_pyzmq_wheel(folder: Path, version: str = "99.0.0") -> Path:
    """A small pure-Python wheel named pyzmq: it exercises the real pip --target path offline."""
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"pyzmq-{version}-py3-none-any.whl"
    info = f"pyzmq-{version}.dist-info"
    files = {
        "zmq/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: pyzmq\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return wheel


def test_pyzmq_is_vendored_for_a_gimp_python_without_it(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    src = make_plugin_source(tmp_path)
    wheels = tmp_path / "wheels"
    _fake_pyzmq_wheel(wheels)
    gimp_dir = tmp_path / "GIMP" / "3.0"
    # `python -S` cannot see this environment's pyzmq: it stands in for a GIMP Python without it.
    args = ["--only", "plugin", "--gimp-dir", gimp_dir, "--plugin-source", src,
            "--gimp-python", f"{sys.executable} -S", "--wheels", wheels]
    env = installer_env(home, MAGIC_GIMP_HOME=str(tmp_path / "data"))

    first = run_installer(args, env)
    assert first.returncode == 0, first.stderr + first.stdout
    vendor = gimp_dir / "plug-ins" / "magic-gimp" / "vendor"
    assert "pyzmq: installed. Put pyzmq 99.0.0 into" in first.stdout
    assert f"(for Python {sys.version_info[0]}.{sys.version_info[1]}, measured); GIMP's Python imports it" \
        in first.stdout
    assert (vendor / "zmq" / "__init__.py").is_file()

    # Re-running keeps the vendored copy (no second fetch) and says so.
    second = run_installer(args, env)
    assert second.returncode == 0, second.stderr
    assert "pyzmq 99.0.0 in" in second.stdout and "already works" in second.stdout

    assert run_installer(["--uninstall"], env).returncode == 0
    assert not (gimp_dir / "plug-ins").exists()


def test_pyzmq_that_cannot_be_fetched_gives_the_exact_command(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    done = run_installer(["--only", "plugin", "--gimp-dir", tmp_path / "G", "--plugin-source",
                          make_plugin_source(tmp_path), "--gimp-python", f"{sys.executable} -S", "--wheels", empty],
                         installer_env(home, MAGIC_GIMP_HOME=str(tmp_path / "data")))
    assert done.returncode == 0, done.stderr
    assert "ACTION NEEDED" in done.stdout
    assert "--only-binary=:all:" in done.stdout and "--target" in done.stdout and "pyzmq" in done.stdout


def test_gimp_python_that_already_has_pyzmq_is_left_alone(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    gimp_dir = tmp_path / "G"
    done = run_installer(["--only", "plugin", "--gimp-dir", gimp_dir, "--plugin-source",
                          make_plugin_source(tmp_path), "--gimp-python", sys.executable],
                         installer_env(home, MAGIC_GIMP_HOME=str(tmp_path / "data")))
    assert done.returncode == 0, done.stderr
    assert "pyzmq: OK." in done.stdout and "nothing to do" in done.stdout
    assert not (gimp_dir / "plug-ins" / "magic-gimp" / "vendor").exists()
