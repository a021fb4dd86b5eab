"""The settings dialog (GIMP's ProcedureDialog: one widget per argument,
last-used values remembered by GIMP after a successful run)."""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
from gi.repository import GimpUi  # noqa: E402
from magic_gimp_core.choices import TARGET_CHANNEL_NAME  # noqa: E402

INTRO = ("Select the object (or pick a source channel), mark where it should go with a channel named "
         f"'{TARGET_CHANNEL_NAME}' (or pick a target channel), then press OK. Results arrive as new layers in a "
         "group above this layer; nothing else changes.")


def ask_options(procedure, config, proc_name: str) -> bool:
    """True when the user pressed Run."""
    GimpUi.init(proc_name)
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "MAGIC")
    intro = dialog.get_label("magic-intro", INTRO, False, False)
    if hasattr(intro, "set_line_wrap"):  # a Gtk.Label
        intro.set_line_wrap(True)
        intro.set_max_width_chars(48)
        intro.set_xalign(0.0)
    dialog.fill(["magic-intro", "source-mask", "target-mask", "mode", "preset", "variants", "seed", "server"])
    try:
        return bool(dialog.run())
    finally:
        dialog.destroy()
