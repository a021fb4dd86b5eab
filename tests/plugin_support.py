"""Where the plug-in lives in the repo: plugin/magic-gimp/, the folder GIMP loads
(pyproject's pytest `pythonpath` makes its GIMP-free modules importable)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLUGIN_DIR = REPO / "plugin" / "magic-gimp"
