#!/usr/bin/env python3
"""MAGIC for GIMP 3: Filters → MAGIC.

One-shot, mask-guided image synthesis: the layer and two masks go to the
local MAGIC server, several results come back as new layers in a group
above the layer. The work is split in two packages next to this file:
magic_gimp_core (no GIMP, unit-tested) and magic_gimp_bridge (libgimp).

GIMP runs this file with its own Python (3.10+, GObject introspection,
standard library). pyzmq comes from that Python or from ./vendor; the
client library (magic_client) sits next to this file. Both are imported
only when the filter runs, so a missing pyzmq gives a message that says
how to install it, not a plug-in that silently fails to load.
"""

import os
import sys

PROC_NAME = "python-fu-magic"
PLUGIN_DIR = os.path.dirname(os.path.realpath(__file__))
if PLUGIN_DIR not in sys.path:
    sys.path.insert(0, PLUGIN_DIR)

from magic_gimp_core.settings import load_settings  # noqa: E402

SETTINGS = load_settings(PLUGIN_DIR)
# Vendored packages (pyzmq for a GIMP whose Python has none) go first.
if SETTINGS.vendor_path not in sys.path:
    sys.path.insert(0, SETTINGS.vendor_path)

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from magic_gimp_bridge.arguments import add_arguments  # noqa: E402


def run(procedure, run_mode, image, drawables, config, data):
    from magic_gimp_bridge.run import run_procedure

    return run_procedure(procedure, run_mode, image, drawables, config, SETTINGS, PROC_NAME)


class MagicPlugIn(Gimp.PlugIn):
    def do_set_i18n(self, name):
        return False  # no translations yet; also avoids GIMP's missing-catalog warnings

    def do_query_procedures(self):
        return [PROC_NAME]

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("*")  # indexed images get a message saying to convert them
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("_MAGIC…")
        procedure.add_menu_path("<Image>/Filters")
        procedure.set_documentation(
            "Mask-guided synthesis: copy, move or reshape an object with several diverse results",
            "Sends the selected layer, a source mask (the selection, or a channel) and a target mask (a channel, "
            "by default the one named 'MAGIC target') to the local MAGIC server, and adds its results as new "
            "layers in one group above the layer. Pixels outside the edited area are left as they are.",
            name)
        procedure.set_attribution("magic-gimp contributors", "MIT", "2025")
        add_arguments(procedure)
        return procedure


Gimp.main(MagicPlugIn.__gtype__, sys.argv)
