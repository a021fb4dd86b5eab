"""The procedure's arguments: one set for the dialog and for scripts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import GObject, Gimp  # noqa: E402

from magic_gimp_core import choices  # noqa: E402
from magic_gimp_core.mask_sources import OBJECT_CHANNEL_NAME, TARGET_CHANNEL_NAME  # noqa: E402
from magic_gimp_core.naming import SEED_MAX, SEED_RANDOM  # noqa: E402

RW = GObject.ParamFlags.READWRITE


def _choice(options: dict) -> "Gimp.Choice":
    choice = Gimp.Choice.new()
    for i, (name, option) in enumerate(options.items()):
        choice.add(name, i, option.label, option.help)
    return choice


def add_arguments(procedure) -> None:
    procedure.add_channel_argument(
        "source-mask", "_Source mask",
        f"Channel marking the object; none = the channel '{OBJECT_CHANNEL_NAME}' made by Remember Object, "
        f"else the selection", True, RW)
    procedure.add_channel_argument(
        "target-mask", "_Target mask",
        f"Channel marking where the result goes; none = the selection when the object is remembered, else the "
        f"channel named '{TARGET_CHANNEL_NAME}'", True, RW)
    procedure.add_choice_argument("mode", "_Mode", "What to do with the object", _choice(choices.MODES),
                                  choices.DEFAULT_MODE, RW)
    procedure.add_choice_argument("preset", "_Preset", "Quality against time", _choice(choices.PRESETS),
                                  choices.DEFAULT_PRESET, RW)
    procedure.add_int_argument("variants", "_Variants",
                               "How many different results; 0 = the settings file's \"variants\", else the preset's",
                               0, choices.MAX_VARIANTS, 0, RW)
    procedure.add_int_argument("seed", "S_eed (-1: random)", f"Random seed; {SEED_RANDOM} = a new one each run (it is "
                               "written in the layer names)", SEED_RANDOM, SEED_MAX, SEED_RANDOM, RW)
    procedure.add_string_argument(
        "server", "Server runtime file",
        "The MAGIC server's runtime file (it holds the endpoint and access token); empty = the installed "
        "default, starting the server when none runs", "", RW)
    # Last, so scripts that pass the earlier arguments by position keep working.
    procedure.add_choice_argument("area", "_Area", "How much of the photo around the edit MAGIC works on",
                                  _choice(choices.AREAS), choices.DEFAULT_AREA, RW)
    procedure.add_group_layer_return_value("results", "Results", "The layer group holding the results", True, RW)


@dataclass
class Options:
    source_mask: Optional["Gimp.Channel"]
    target_mask: Optional["Gimp.Channel"]
    mode: str
    preset: str
    area: str
    variants: int
    seed: int
    server: str


def read_options(config) -> Options:
    return Options(
        source_mask=config.get_property("source-mask"),
        target_mask=config.get_property("target-mask"),
        mode=config.get_property("mode"),
        preset=config.get_property("preset"),
        area=config.get_property("area"),
        variants=config.get_property("variants"),
        seed=config.get_property("seed"),
        server=(config.get_property("server") or "").strip(),
    )
