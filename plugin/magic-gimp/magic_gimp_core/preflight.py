"""What the dialog says before OK: where the object and the target come
from and how big they are, the area MAGIC will work on, the server's state
and, per preset, how long this server takes for this area."""

from __future__ import annotations

from typing import Optional

from .choices import PRESETS
from .progress import format_seconds

LONG_RUN_S = 120  # an estimate from which the dialog points at the tight area


def mask_line(role: str, origin: str, pixels: int) -> str:
    return f"{role}: {origin}, {pixels:,} px"


def region_line(width: int, height: int, layer_name: str) -> str:
    return f"MAGIC works on {width}×{height} px of layer '{layer_name}'; nothing outside the edit changes."


def preset_label(name: str, entry: Optional[dict], measuring: bool) -> str:
    """The preset's menu text, with this server's measured time when it has one:
    "Preview (fewest steps): about 55 s, 3 results"."""
    label = PRESETS[name].label if name in PRESETS else name
    if entry is None:
        return label
    variants = entry.get("variants")
    results = f", {variants} results" if variants else ""
    seconds = entry.get("seconds")
    if seconds is None and entry.get("basis") == "failed":
        return f"{label}: no estimate (measuring it failed){results}"
    if seconds is None:
        return f"{label}: measuring…{results}" if measuring else label
    return f"{label}: about {format_seconds(seconds)}{results}"


def preset_estimate(reply: Optional[dict], preset: str) -> Optional[dict]:
    """The entry for `preset` ({"seconds", "basis", "variants"}) in the server's
    estimate reply, or None (no reply yet, or no such preset)."""
    return ((reply or {}).get("estimates") or {}).get(preset)


def area_hint(area: str, preset: str, estimates: dict, regions: dict) -> str:
    """A word when the chosen preset takes long on the usual area and the tight one
    is smaller: what the tight area would take. estimates: {area: the server's
    estimate reply}; regions: {area: (width, height)}."""
    usual, tight = ((preset_estimate(estimates.get(name), preset) or {}).get("seconds") for name in ("usual", "tight"))
    if area != "usual" or usual is None or tight is None or usual < LONG_RUN_S:
        return ""
    if regions.get("tight") == regions.get("usual"):
        return ""
    width, height = regions["tight"]
    return (f"This takes a while. The tight area ({width}×{height} px) would take about {format_seconds(tight)}, "
            f"with less of the photo around the edit to fill the hole from.")


def server_line(state: str, hello: Optional[dict] = None, detail: str = "", studio: str = "") -> str:
    """state: "connecting", "starting", "running", "failed"; studio: the studio
    server's address when the designer chose one (Server Settings)."""
    where = f"the studio server {studio}" if studio else ""
    if state == "connecting":
        return f"Server: connecting to {where}…" if studio else "Server: looking for the MAGIC server…"
    if state == "starting":
        return "Server: not running, starting it now (the first start loads the engine: up to a minute)…"
    if state == "failed":
        return f"Server: {detail}"
    devices = ", ".join(d.get("description") or d.get("name", "?") for d in (hello or {}).get("devices") or [])
    queue = (hello or {}).get("queue") or {}
    busy = queue.get("ahead", queue.get("queued", 0) + queue.get("running", 0))  # "ahead": clients take turns
    waiting = f"; {busy} job(s) ahead of this one" if busy else ""
    return f"Server: {where + ', ' if studio else ''}running on {devices or 'its device'}{waiting}."
