"""Run function shared by the plug-in's small steps (Remember Object, Show
Next Result): do it, or return its UserError as GIMP's error message."""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, Gimp  # noqa: E402

from magic_gimp_core import messages  # noqa: E402


def run_step(procedure, action):
    try:
        action()
    except BaseException as exc:  # noqa: BLE001 - GIMP would show nothing useful for an escaped exception
        if not isinstance(exc, messages.UserError):
            import traceback

            traceback.print_exc()
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR,
                                           GLib.Error(messages.describe_failure(exc)))
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())
