#!/bin/sh
# magic-gimp installer for Linux and macOS: finds a Python 3.9+ and runs install.py.
# Usage: sh installer/install.sh [options]   (see: sh installer/install.sh --help)
here=$(cd "$(dirname "$0")" && pwd)
for candidate in python3 python3.13 python3.12 python3.11 python3.10 python3.9 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
        exec "$candidate" "$here/install.py" "$@"
    fi
done
echo "magic-gimp needs Python 3.9 or newer (3.10+ for the server). Install it first:" >&2
echo "  Debian/Ubuntu: sudo apt install python3 python3-venv" >&2
echo "  Fedora: sudo dnf install python3    macOS: https://www.python.org/downloads/" >&2
exit 1
