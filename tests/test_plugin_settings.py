"""The plug-in reads the settings file the real installer writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from plugin_support import PLUGIN_DIR, REPO
from magic_gimp_core.settings import load_settings


def test_settings_written_by_the_installer_are_understood(tmp_path):
    gimp_dir = tmp_path / "GIMP" / "3.0"
    env = dict(os.environ, HOME=str(tmp_path), MAGIC_GIMP_HOME=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, str(REPO / "installer" / "install.py"), "--only", "plugin",
                           "--gimp-dir", str(gimp_dir), "--runtime-file", str(tmp_path / "rt.json"),
                           "--server-command", "/opt/py/bin/python -m magic_server --idle-exit 60",
                           "--no-vendor-zmq"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    installed = gimp_dir / "plug-ins" / "magic-gimp"
    assert os.access(installed / "magic-gimp.py", os.X_OK)
    assert (installed / "magic_gimp_core" / "settings.py").is_file()
    assert (installed / "magic_client" / "__init__.py").is_file()

    settings = load_settings(str(installed))
    assert settings.problem is None
    assert settings.runtime_file == str(tmp_path / "rt.json")
    assert settings.server_command == ["/opt/py/bin/python", "-m", "magic_server", "--idle-exit", "60"]
    assert settings.vendor_path == str(installed / "vendor")
    assert (settings.variants, settings.test_presets) == (0, False)

    # Developer settings are added by hand, and a reinstall keeps them.
    config = json.loads((installed / "magic-gimp.json").read_text())
    (installed / "magic-gimp.json").write_text(json.dumps(dict(config, variants=2, test_presets=True)))
    again = subprocess.run(done.args, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    settings = load_settings(str(installed))
    assert (settings.variants, settings.test_presets, settings.problem) == (2, True, None)


def test_missing_or_bad_settings_give_defaults_and_say_why(tmp_path):
    settings = load_settings(str(tmp_path))
    assert settings.problem.endswith("magic-gimp.json does not exist")
    assert settings.server_command == [] and settings.runtime_file is None

    (tmp_path / "magic-gimp.json").write_text("{not json")
    assert "cannot be read" in load_settings(str(tmp_path)).problem
    (tmp_path / "magic-gimp.json").write_text(json.dumps({"server_command": "python -m magic_server"}))
    assert "list of strings" in load_settings(str(tmp_path)).problem
    (tmp_path / "magic-gimp.json").write_text(json.dumps({"variants": 99}))
    assert load_settings(str(tmp_path)).variants == 0 and load_settings(str(tmp_path)).problem is None


def test_gimp_free_modules_import_without_numpy_zmq_or_gi():
    """GIMP's Python may lack numpy and pyzmq; the core must not need them."""
    code = (
        "import sys\n"
        "for name in ('numpy', 'zmq', 'gi', 'torch'):\n"
        "    sys.modules[name] = None  # makes 'import name' fail\n"
        f"sys.path.insert(0, {str(PLUGIN_DIR)!r})\n"
        "import pkgutil, importlib, magic_gimp_core\n"
        "names = [m.name for m in pkgutil.iter_modules(magic_gimp_core.__path__)]\n"
        "for name in names: importlib.import_module('magic_gimp_core.' + name)\n"
        "from magic_common import masks\n"
        "assert masks.numpy is None\n"
        "assert masks.mask_box(bytes([0, 200, 0, 0]), 2, 2) == (1, 0, 2, 1)\n"
        "print(len(names))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 8
