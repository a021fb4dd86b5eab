"""The plug-in's install-time settings (magic-gimp.json, written by the
installer) and where its bundled modules live."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import List, Optional

from .choices import MAX_VARIANTS

CONFIG_NAME = "magic-gimp.json"
DEFAULT_VENDOR_DIR = "vendor"


@dataclass
class PluginSettings:
    plugin_dir: str
    config_path: str
    runtime_file: Optional[str] = None  # None: the client library's default place
    server_command: List[str] = field(default_factory=list)  # empty: the plug-in cannot start a server
    vendor_dir: str = DEFAULT_VENDOR_DIR
    # Developer settings, kept out of the dialog: results per run (0: the
    # preset's own number) and whether the dialog offers the test preset.
    variants: int = 0
    test_presets: bool = False
    problem: Optional[str] = None  # why the config file could not be used, if it could not

    @property
    def vendor_path(self) -> str:
        return os.path.join(self.plugin_dir, self.vendor_dir)


def load_settings(plugin_dir: str) -> PluginSettings:
    """Read <plugin_dir>/magic-gimp.json; a missing or bad file gives
    defaults plus `problem` (the plug-in still runs against a server that is
    already up)."""
    path = os.path.join(plugin_dir, CONFIG_NAME)
    settings = PluginSettings(plugin_dir=plugin_dir, config_path=path)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        settings.problem = f"{path} does not exist"
        return settings
    except (OSError, ValueError) as exc:
        settings.problem = f"{path} cannot be read ({exc})"
        return settings
    if not isinstance(data, dict):
        settings.problem = f"{path} is not a JSON object"
        return settings
    runtime_file = data.get("runtime_file")
    if isinstance(runtime_file, str) and runtime_file:
        settings.runtime_file = os.path.expanduser(runtime_file)
    command = data.get("server_command")
    if isinstance(command, list) and command and all(isinstance(part, str) for part in command):
        settings.server_command = list(command)
    elif command is not None:
        settings.problem = f"{path}: \"server_command\" must be a list of strings"
    vendor = data.get("vendor_dir")
    if isinstance(vendor, str) and vendor:
        settings.vendor_dir = vendor
    variants = data.get("variants", 0)
    if isinstance(variants, int) and not isinstance(variants, bool) and 0 <= variants <= MAX_VARIANTS:
        settings.variants = variants
    else:  # the run still works with the preset's number; `problem` is kept for reaching the server
        print(f"magic-gimp: {path}: \"variants\" must be 0 (the preset's number) to {MAX_VARIANTS}; using 0",
              file=sys.stderr)
    settings.test_presets = data.get("test_presets") is True
    return settings
