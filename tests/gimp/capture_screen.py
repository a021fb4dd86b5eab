"""Save the X screen (or one window's rectangle) as PNG. Runs with the
trixie root's python3 (GObject introspection, Gdk 3), so no screenshot tool
is needed:  python3 capture_screen.py OUT.png [X Y W H]"""

import sys

import gi

gi.require_version("Gdk", "3.0")
from gi.repository import Gdk  # noqa: E402

root = Gdk.get_default_root_window()
x, y, w, h = (int(v) for v in sys.argv[2:6]) if len(sys.argv) >= 6 else (0, 0, root.get_width(), root.get_height())
pixbuf = Gdk.pixbuf_get_from_window(root, x, y, w, h)
if pixbuf is None:
    sys.exit("could not read the screen")
pixbuf.savev(sys.argv[1], "png", [], [])
print(f"saved {w}x{h} at {x},{y} to {sys.argv[1]}")
