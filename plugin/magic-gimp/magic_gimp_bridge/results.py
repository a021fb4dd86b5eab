"""Putting a finished job into the image: one group above the source layer
and above the results of earlier runs on it (runs stack as layers do, the
newest on top and the only one shown: an earlier run's object, moved
elsewhere, would show through beside it), one layer per variant, in a
single undo step.

After a run the first result is visible and selected (its pixels, not its
mask, so painting touches the result; a rerun from a result layer works on
the layer the results were made from), the others are hidden under it:
Filters → MAGIC → Show Next Result, or the eye icons, show each in turn.
The group carries a parasite, so it is found again after renaming or
reloading the XCF; the parasite is undoable, or GIMP would record its
attachment as a step it "can't undo" and say so on every Ctrl+Z.

On a layer with transparency (a cut-out object) a result is transparent
where the object was, and there the layers below the source layer must
show, not the object still on it. So the group also holds, under the
results, a copy of the source layer with the edited area cut out, and the
source layer is hidden; Undo shows it again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from magic_gimp_core.masks import binary_layer_mask  # noqa: E402
from magic_gimp_core.naming import group_name, layer_name, next_run  # noqa: E402
from magic_common.region import Box  # noqa: E402
from magic_gimp_core.transparency import cut_out, shows_transparency  # noqa: E402

from . import pixels  # noqa: E402
from .remember import hide_object_overlay  # noqa: E402


RESULTS_PARASITE = "magic-gimp-results"  # JSON: run, mode, preset, seed and the source layer's tattoo
OUTSIDE_PARASITE = "magic-gimp-outside-the-edit"  # on the source layer's copy in a result group
UNDOABLE_PERSISTENT = Gimp.PARASITE_PERSISTENT | Gimp.PARASITE_UNDOABLE


def is_result_group(layer) -> bool:
    return layer.is_group() and layer.get_parasite(RESULTS_PARASITE) is not None


def result_group_of(layer):
    """The result group `layer` is (or is a result inside), else None."""
    if is_result_group(layer):
        return layer
    parent = layer.get_parent() if layer.is_layer() else None
    return parent if parent is not None and is_result_group(parent) else None


def _record(group) -> dict:
    """The result group's parasite as a dict ({} if unreadable)."""
    try:
        record = json.loads(bytes(group.get_parasite(RESULTS_PARASITE).get_data()).decode("utf-8"))
    except (ValueError, TypeError, AttributeError):
        return {}
    return record if isinstance(record, dict) else {}


def _is_the_layer_outside(layer) -> bool:
    """Whether `layer` is the source layer's copy under a result group's variants."""
    return layer.get_parasite(OUTSIDE_PARASITE) is not None


def result_layers(group) -> list:
    """The variants in a result group, top first (not the source layer's copy under them)."""
    return [layer for layer in group.get_children() if not _is_the_layer_outside(layer)]


def _holds_the_layer_outside(group) -> bool:
    return any(_is_the_layer_outside(layer) for layer in group.get_children())


def result_groups(layers, nested: bool = False):
    """The result groups among `layers` (image.get_layers()) and inside their groups, top
    first; with `nested`, also those a designer dragged into a result group."""
    for layer in layers:
        if is_result_group(layer):
            yield layer
            if nested:
                yield from result_groups(layer.get_children(), nested)
        elif layer.is_group():
            yield from result_groups(layer.get_children(), nested)


def run_number(image) -> int:
    """The number of a new run on `image`: one more than its earlier runs'."""
    earlier = [_record(group).get("run") for group in result_groups(image.get_layers(), nested=True)]
    return next_run([run if isinstance(run, int) else None for run in earlier])


def _made_from(group, source_layer) -> bool:
    """Whether result `group` was made from `source_layer` (a group that does not say counts)."""
    tattoo = _record(group).get("source_tattoo")
    return tattoo is None or tattoo == source_layer.get_tattoo()


def stack_position(image, source_layer) -> tuple:
    """Where a new result group goes among the source layer's siblings: above the
    source layer and above the result groups of its earlier runs directly over it,
    so the newest run is on top. -> (position, those earlier groups)."""
    parent = source_layer.get_parent()
    siblings = parent.get_children() if parent is not None else image.get_layers()
    position = image.get_item_position(source_layer)
    earlier = []
    while position > 0 and is_result_group(siblings[position - 1]) and _made_from(siblings[position - 1],
                                                                                 source_layer):
        position -= 1
        earlier.append(siblings[position])
    return position, earlier


def source_layer_of(image, group):
    """The layer a result group was made from: by its tattoo (kept in the
    XCF), else the layer just below the group. None if it is gone."""
    try:
        layer = image.get_layer_by_tattoo(int(_record(group)["source_tattoo"]))
        if layer is not None and layer.is_valid() and not layer.is_group():
            return layer
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    parent = group.get_parent()
    siblings = parent.get_children() if parent is not None else image.get_layers()
    below = [layer for layer in siblings[siblings.index(group) + 1:] if not layer.is_group()] \
        if group in siblings else []
    return below[0] if below else None


@dataclass
class Placement:
    mode: str
    preset: str
    seed: int
    x: int  # image position of the crop's top-left corner
    y: int
    width: int
    height: int


def result_layer_type(image) -> "Gimp.ImageType":
    """RGB images get RGBA layers, grey images GRAYA (indexed images are
    refused before anything is sent)."""
    if image.get_base_type() == Gimp.ImageBaseType.GRAY:
        return Gimp.ImageType.GRAYA_IMAGE
    return Gimp.ImageType.RGBA_IMAGE


def insert_results(image, source_layer, place: Placement, layers: List[bytes], edit_mask: bytes):
    """-> the new group. Each result layer shows the engine's composite
    inside the edited area only (a layer mask hides the rest), so the image
    looks unchanged outside it whatever the layers below are."""
    mask_bytes = binary_layer_mask(edit_mask)
    layer_type = result_layer_type(image)
    image.undo_group_start()
    group = None
    try:
        run = run_number(image)
        group = Gimp.GroupLayer.new(image, group_name(run, place.mode, place.preset, place.seed))
        position, shown_earlier = stack_position(image, source_layer)
        image.insert_layer(group, source_layer.get_parent(), position)
        for shown_before in shown_earlier:  # only the new run shows: an older one's object elsewhere would show too
            shown_before.set_visible(False)
        record = {"run": run, "mode": place.mode, "preset": place.preset, "seed": place.seed,
                  "source_tattoo": source_layer.get_tattoo()}
        group.attach_parasite(Gimp.Parasite.new(RESULTS_PARASITE, UNDOABLE_PERSISTENT,
                                                json.dumps(record).encode("utf-8")))
        # An earlier run may have hidden the source layer: its copy keeps the layer shown outside the edit.
        if any(shows_transparency(layer, mask_bytes) for layer in layers) or \
                any(_holds_the_layer_outside(earlier) for earlier in shown_earlier):
            _add_the_layer_outside_the_edit(image, group, source_layer, place, mask_bytes)
        made = []
        # Last variant first, each on top: the first is added last, and a Redo, which
        # selects each layer it adds again, leaves it selected as the run did.
        for index in reversed(range(len(layers))):
            layer = Gimp.Layer.new(image, layer_name(place.mode, place.preset, place.seed, index + 1),
                                   place.width, place.height, layer_type, 100.0, Gimp.LayerMode.NORMAL)
            image.insert_layer(layer, group, 0)
            layer.set_offsets(place.x, place.y)
            pixels.write_rgba(layer, Box(0, 0, place.width, place.height), layers[index])
            mask = layer.create_mask(Gimp.AddMaskType.BLACK)
            layer.add_mask(mask)
            pixels.write_mask(mask, place.width, place.height, mask_bytes)
            layer.set_edit_mask(False)
            layer.set_visible(index == 0)  # one at a time: toggling shows each in turn
            layer.update(0, 0, place.width, place.height)
            made.insert(0, layer)
        image.set_selected_layers(made[:1])
        hide_object_overlay(image)  # in the same undo step: one Ctrl+Z takes the whole run back
    except BaseException:
        if group is not None and group.is_valid():
            image.remove_layer(group)  # nothing half-made stays behind
        raise
    finally:
        image.undo_group_end()
    Gimp.displays_flush()
    return group


def _add_the_layer_outside_the_edit(image, group, source_layer, place: Placement, shown: bytes) -> None:
    """Under the results in `group`: a copy of `source_layer` with the area the results
    show (`shown`, the binary layer mask) cut out; the source layer itself is hidden."""
    outside = source_layer.copy()
    outside.set_visible(True)  # the source may be hidden by an earlier run; a copy keeps that
    outside.set_name(f"{source_layer.get_name()} (outside the edit)")
    image.insert_layer(outside, group, 0)
    outside.attach_parasite(Gimp.Parasite.new(OUTSIDE_PARASITE, UNDOABLE_PERSISTENT, b"1"))
    x, y = pixels.layer_offsets(source_layer)
    box = Box(place.x - x, place.y - y, place.x - x + place.width, place.y - y + place.height)
    pixels.write_rgba(outside, box, cut_out(pixels.read_rgba(outside, box), shown))
    outside.update(box.left, box.top, box.width, box.height)
    source_layer.set_visible(False)
