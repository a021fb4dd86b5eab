#!/usr/bin/env python3
"""MAGIC for GIMP 3: Filters → MAGIC.

One-shot, mask-guided image synthesis: the layer and two masks go to the
local MAGIC server, several results come back as new layers in a group
above the layer. Three menu items, in the order a designer uses them:

    1. Remember Object         the selection becomes the object (channel 'MAGIC object')
    2. Move or Reshape Object… the current selection is the target; runs MAGIC
    3. Show Next Result        shows the run's results one at a time
    Server Settings…           this computer's server, or a studio server elsewhere

The work is split in two packages next to this file: magic_gimp_core (no
GIMP, unit-tested) and magic_gimp_bridge (libgimp).

GIMP runs this file with its own Python (3.10+, GObject introspection,
standard library). pyzmq comes from that Python or from ./vendor; the
client library (magic_client) sits next to this file. Both are imported
only when the filter runs, so a missing pyzmq gives a message that says
how to install it, not a plug-in that silently fails to load.
"""

import os
import sys

PROC_NAME = "python-fu-magic"
REMEMBER_PROC = "python-fu-magic-remember-object"
NEXT_RESULT_PROC = "python-fu-magic-next-result"
SERVER_PROC = "python-fu-magic-server-settings"
MENU = "<Image>/Filters/MAGIC"
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


def run_remember(procedure, run_mode, image, drawables, config, data):
    from magic_gimp_bridge.remember import remember_object
    from magic_gimp_bridge.steps import run_step

    return run_step(procedure, lambda: remember_object(image, drawables))


def run_next_result(procedure, run_mode, image, drawables, config, data):
    from magic_gimp_bridge.cycle import show_next_result
    from magic_gimp_bridge.steps import run_step

    return run_step(procedure, lambda: show_next_result(image, drawables))


def run_server_settings(procedure, run_mode, image, drawables, config, data):
    from magic_gimp_bridge.server_settings import run_server_settings as run_settings

    return run_settings(procedure, run_mode, config, SETTINGS, SERVER_PROC)


# The two steps around the run: procedure -> (run function, menu label, blurb, help).
SMALL_STEPS = {
    REMEMBER_PROC: (run_remember, "_1. Remember Object",
                    "Remember the selection as the object MAGIC moves or reshapes",
                    "Saves the selection as the channel 'MAGIC object', shown in red on the canvas, and keeps the "
                    "selection. Then move, scale, rotate or warp the selection to where the object should go and "
                    "use Filters → MAGIC → Move or Reshape Object. A soft selection (feathered, or Foreground "
                    "Select's) moves with its soft edge."),
    NEXT_RESULT_PROC: (run_next_result, "_3. Show Next Result",
                       "Show the next MAGIC result of the selected (or topmost) run",
                       "Results of a run are shown one at a time; this hides the visible one and shows the next. "
                       "Give it a keyboard shortcut to compare the variants in place."),
}


class MagicPlugIn(Gimp.PlugIn):
    def do_set_i18n(self, name):
        return False  # no translations yet; also avoids GIMP's missing-catalog warnings

    def do_query_procedures(self):
        return [REMEMBER_PROC, PROC_NAME, NEXT_RESULT_PROC, SERVER_PROC]

    def do_create_procedure(self, name):
        sensitivity = Gimp.ProcedureSensitivityMask.DRAWABLE
        if name == PROC_NAME:
            procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
            procedure.set_menu_label("_2. Move or Reshape Object…")
            procedure.set_documentation(
                "Mask-guided synthesis: copy, move or reshape an object with several diverse results",
                "Sends the selected layer, the object (the channel 'MAGIC object' made by Remember Object, else the "
                "selection) and the target (then the current selection, else the channel 'MAGIC target') to the "
                "local MAGIC server, and adds its results as new layers in one group above the layer. Pixels "
                "outside the edited area are left as they are.", name)
            add_arguments(procedure)
        elif name == SERVER_PROC:
            from magic_gimp_bridge.server_settings import add_server_arguments

            procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run_server_settings, None)
            procedure.set_menu_label("_Server Settings…")
            procedure.set_documentation(
                "Which MAGIC server runs the jobs: this computer's, or a studio server on another computer",
                "A studio server (started with --curve on a machine with a GPU) needs its address and public key, "
                "and admits this computer once its admin has allowed this computer's key, which the dialog shows "
                "with a Copy button and scripts get back.", name)
            add_server_arguments(procedure)
            sensitivity = Gimp.ProcedureSensitivityMask.ALWAYS  # needs no image
        else:
            run_function, label, blurb, help_text = SMALL_STEPS[name]
            procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run_function, None)
            procedure.set_menu_label(label)
            procedure.set_documentation(blurb, help_text, name)
        procedure.set_image_types("*")  # indexed images get a message saying to convert them
        procedure.set_sensitivity_mask(sensitivity)
        procedure.add_menu_path(MENU)
        procedure.set_attribution("magic-gimp contributors", "MIT", "2025")
        return procedure


Gimp.main(MagicPlugIn.__gtype__, sys.argv)
