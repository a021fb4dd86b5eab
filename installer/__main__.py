"""`python -m installer` (from the repo root) is the same as installer/install.py."""

import sys

from installer.cli import main

sys.exit(main())
