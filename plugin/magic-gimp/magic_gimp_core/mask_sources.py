"""Where the object (source) and the target come from, the way a designer
works in GIMP:

1. Filters → MAGIC → Remember Object saves the selection as the channel
   'MAGIC object' (shown on the canvas as a red overlay);
2. the designer moves, scales, rotates or warps the selection with GIMP's
   own tools (or paints it in Quick Mask);
3. Filters → MAGIC → Move or Reshape runs with the remembered object as
   the source and the *current* selection as the target.

The older route still works: the selection is the object and a channel
named 'MAGIC target' is the target. Channels passed as arguments (scripts)
win over both.
"""

from __future__ import annotations

from dataclasses import dataclass

from .messages import UserError

OBJECT_CHANNEL_NAME = "MAGIC object"
TARGET_CHANNEL_NAME = "MAGIC target"

# Kinds of mask origin, named in the dialog and in messages.
ARGUMENT, OBJECT_CHANNEL, SELECTION, TARGET_CHANNEL = "argument", "object channel", "selection", "target channel"


@dataclass(frozen=True)
class MaskSources:
    source: str  # one of the kinds above
    target: str


def pick_mask_sources(source_argument: bool, target_argument: bool, object_channel: bool, selection: bool,
                      target_channel: bool) -> MaskSources:
    """Which mask is the object and which the target, from what exists.
    Raises UserError saying what to do when one is missing."""
    if source_argument:
        source = ARGUMENT
    elif object_channel:
        source = OBJECT_CHANNEL
    elif selection:
        source = SELECTION
    else:
        raise UserError("Nothing is selected. Select the object, use Filters → MAGIC → Remember Object, then move "
                        "or transform the selection to where the object should go, and run MAGIC again.")
    if target_argument:
        target = ARGUMENT
    elif source != SELECTION and selection:
        target = SELECTION
    elif target_channel:
        target = TARGET_CHANNEL
    elif source == OBJECT_CHANNEL:
        raise UserError(f"There is no target. The object is remembered (channel '{OBJECT_CHANNEL_NAME}'); now "
                        f"select where it should go: move, scale or transform the selection with GIMP's tools "
                        f"(or paint it in Quick Mask), then run MAGIC again.")
    else:
        raise UserError(f"There is no target. Use Filters → MAGIC → Remember Object with the object selected, "
                        f"then move or transform the selection to where it should go and run MAGIC again (or "
                        f"save the target as a channel named '{TARGET_CHANNEL_NAME}').")
    return MaskSources(source, target)


def describe_source(kind: str, channel_name: str | None = None) -> str:
    """How messages and the dialog name a mask's origin."""
    if kind == SELECTION:
        return "the selection"
    if kind == OBJECT_CHANNEL:
        return f"the remembered object (channel '{OBJECT_CHANNEL_NAME}')"
    return f"channel '{channel_name}'"


def same_pixels(source_mask, target_mask) -> bool:
    """True when the target covers exactly the object: nothing to move or reshape."""
    return bytes(source_mask) == bytes(target_mask)
