#!/usr/bin/env python3
"""magic-gimp installer: `python installer/install.py --help`.

Runs with any Python 3.9+ and only the standard library.
"""

import sys
from pathlib import Path

if sys.version_info < (3, 9):
    sys.exit(f"magic-gimp's installer needs Python 3.9 or newer; this is {sys.version.split()[0]}.")

# Run as a script: make the repo root importable so `installer` is a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installer.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
