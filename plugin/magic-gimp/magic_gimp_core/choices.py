"""The procedure's choices as a designer sees them (labels, help), shared by the
dialog, scripts and tests. The names, defaults and limits are every part's own
(magic_common.choices); the server checks them again (hello lists what it offers).
"""

from __future__ import annotations

from typing import NamedTuple

# DEFAULT_MODE and DEFAULT_PRESET are read here by the dialog and the procedure's arguments.
from magic_common.choices import DEFAULT_MODE, DEFAULT_PRESET, MODES as MODE_NAMES, PRESET_NAMES, VARIANTS  # noqa: F401


class Choice(NamedTuple):
    label: str  # what the dialog's list shows
    help: str  # the tooltip, and the procedure argument's help


class Area(NamedTuple):
    label: str
    help: str
    margin_share: float  # of the server's context margin (area_rule)


MODES = {
    "position": Choice("Position (copy/move the object)", "copy or move the object into the target mask"),
    "shape": Choice("Shape (reshape the object)", "deform the object to fill the target mask"),
    "scene": Choice("Scene (repetitive textures)", "reshape repetitive scenes or textures into the target mask"),
}
# Labels promise no time: what a preset costs depends on the server's device and the
# area, and the dialog adds what this server measured for this area.
PRESETS = {
    "preview": Choice("Preview (fewest steps)", "3 variants at full resolution, MAGIC's fewest steps"),
    "standard": Choice("Standard (5x the steps)", "3 variants at full resolution, MAGIC works 5x longer"),
    "paper": Choice("Paper (official schedule)", "5 variants, the official 18,000 steps, then full resolution"),
    "tiny": Choice("Tiny (tests only)", "2 variants, 48 px, 12 steps: meaningless results"),
}
# How much of the photo around the edit MAGIC works on (area_rule).
AREAS = {
    "usual": Area("Usual (a quarter of the edit's size around it)", "the server's own context around the edit", 1.0),
    "tight": Area("Tight (faster, less photo to copy from)",
                  "a quarter of the usual context: a large photo's edit takes less time, and the hole has less of "
                  "the photo around it to be filled from", 0.25),
}
assert tuple(MODES) == MODE_NAMES and set(PRESETS) == set(PRESET_NAMES), "a label for each name"
DEFAULT_AREA = "usual"
MAX_VARIANTS = VARIANTS[1]
# Presets a designer picks from in the dialog; scripts may also pass the others (tiny, for tests).
DIALOG_PRESETS = ("preview", "standard", "paper")


def job_params(mode: str, preset: str, variants: int, seed: int) -> dict:
    """Submit params; variants 0 keeps the preset's own number."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if not 0 <= variants <= MAX_VARIANTS:
        raise ValueError(f"variants must be 0 (the preset's number) to {MAX_VARIANTS}, got {variants}")
    params = {"mode": mode, "preset": preset, "seed": seed}
    if variants:
        params["variants"] = variants
    return params


def area_rule(rule: tuple, area: str) -> tuple:
    """The region rule (context_margin, min_context, min_side) for the area a designer
    picked: "usual" is the server's own; "tight" keeps a quarter of its margin (still
    at least min_context px), so a large photo's edit costs less, with less of the
    photo around it to fill the hole from. The engine works within what it is sent."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}; choose one of {', '.join(AREAS)}")
    context_margin, min_context, min_side = rule
    return context_margin * AREAS[area].margin_share, min_context, min_side
