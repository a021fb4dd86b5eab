"""Makes the plug-in's GIMP-free modules importable in host tests: they
live in plugin/magic-gimp/ (the folder GIMP loads), not in a package."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLUGIN_DIR = REPO / "plugin" / "magic-gimp"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))
