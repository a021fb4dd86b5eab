"""Filters → MAGIC → 3. Show Next Result: one result of a run is visible
at a time; this hides it and shows the next (after the last, the first
again), so variants are compared in place at any zoom, one keystroke each
once a shortcut is set (Edit → Keyboard Shortcuts)."""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from magic_gimp_core import messages  # noqa: E402

from .results import result_group_of, result_groups, result_layers  # noqa: E402


def _result_group(image, drawables):
    """The selected results (a result layer or its group), else the topmost."""
    for drawable in drawables:
        group = result_group_of(drawable) if drawable.is_layer() else None
        if group is not None:
            return group
    return next(result_groups(image.get_layers()), None)


def show_next_result(image, drawables):
    """-> the result layer now shown (and selected)."""
    group = _result_group(image, drawables)
    if group is None:
        raise messages.UserError("There are no MAGIC results in this image yet. Run Filters → MAGIC → Move or "
                                 "Reshape Object first.")
    children = result_layers(group)
    if not children:
        raise messages.UserError(f"The group '{group.get_name()}' holds no results any more.")
    shown = [i for i, layer in enumerate(children) if layer.get_visible()]
    following = (shown[0] + 1) % len(children) if len(shown) == 1 else 0
    image.undo_group_start()
    try:
        group.set_visible(True)
        for index, layer in enumerate(children):
            layer.set_visible(index == following)
        image.set_selected_layers([children[following]])
    finally:
        image.undo_group_end()
    Gimp.displays_flush()
    return children[following]
