# The real-GIMP test of the MAGIC plug-in. Runs inside GIMP 3's
# python-fu-eval batch interpreter (Gimp, Gegl, Gio, GLib are already
# imported there), started by tests/gimp/run_gimp_tests.sh:
#
#   gimp-console-3.x -i --batch-interpreter=python-fu-eval -b - --quit < batch_test.py
#
# It builds an image (a background, a layer at an offset, a selection and a
# 'MAGIC target' channel), calls Filters → MAGIC non-interactively against
# the real server, and checks the result group and layers (names, sizes,
# positions), that the visible image is unchanged outside the edited area,
# that the image saves and reloads as XCF, and that bad input fails cleanly
# without creating anything. A failed assert makes GIMP exit with 64.
#
# Environment: MAGIC_TEST_DIR (default /tmp/magic-test), a folder this
# script may write to.

import json
import os
import shutil
import time

import numpy as np

PROC = "python-fu-magic"
REMEMBER_PROC = "python-fu-magic-remember-object"
NEXT_RESULT_PROC = "python-fu-magic-next-result"
SERVER_PROC = "python-fu-magic-server-settings"
TEST_DIR = os.environ.get("MAGIC_TEST_DIR", "/tmp/magic-test")
RGBA = "R'G'B'A u8"

# The scene, in image coordinates.
IMAGE_W, IMAGE_H = 200, 150
LAYER_X, LAYER_Y, LAYER_W, LAYER_H = 30, 20, 150, 110
SOURCE = (70, 50, 20, 20)  # x, y, w, h of the selected object
TARGET = (120, 80, 16, 16)  # the 'MAGIC target' channel
MODE, PRESET, VARIANTS, SEED = "position", "tiny", 2, 7

# The crop the plug-in must send, worked out by hand from the engine's
# region rule (context margin 0.25 of the long side, at least 16 px):
# masks in layer coordinates: source (40,30)-(60,50), target (90,60)-(106,76);
# union (40,30)-(106,76), long side 66 -> margin max(16, ceil(16.5)) = 17;
# crop (23,13)-(123,93) in the 150x110 layer -> 100x80 at image (53,33).
CROP_X, CROP_Y, CROP_W, CROP_H = LAYER_X + 23, LAYER_Y + 13, 100, 80

# The two-step workflow: the object is remembered, then the selection is
# moved by MOVE_BY (as with the Move tool in selection mode) to become the
# target: source (40,30)-(60,50) and target (90,60)-(110,80) in layer
# coordinates; union (40,30)-(110,80), long side 70 -> margin 18; crop
# (22,12)-(128,98) -> 106x86 at image (52,32).
# The tight area keeps a quarter of the margin, still at least 16 px: 16 here ->
# crop (24,14)-(122,92) -> 98x78 at image (54,34).
TIGHT_CROP = (LAYER_X + 24, LAYER_Y + 14, 98, 78)
MOVE_BY = (50, 30)
MOVED_CROP = (LAYER_X + 22, LAYER_Y + 12, 106, 86)

timings = []


def stage(name, since):
    timings.append((name, time.monotonic() - since))
    return time.monotonic()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def read(drawable, x, y, w, h, fmt=RGBA, channels=4):
    data = drawable.get_buffer().get(Gegl.Rectangle.new(x, y, w, h), 1.0, fmt, Gegl.AbyssPolicy.NONE)
    return np.frombuffer(bytes(data), np.uint8).reshape(h, w, channels) if channels > 1 else \
        np.frombuffer(bytes(data), np.uint8).reshape(h, w)


def write(drawable, array, fmt=RGBA):
    h, w = array.shape[:2]
    buf = drawable.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, w, h), fmt, np.ascontiguousarray(array, np.uint8).tobytes())
    buf.flush()
    drawable.update(0, 0, w, h)


def composite(image):
    """What the image looks like: all visible layers merged, image-sized."""
    dup = image.duplicate()
    try:
        merged = dup.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        _, ox, oy = merged.get_offsets()
        check((ox, oy, merged.get_width(), merged.get_height()) == (0, 0, IMAGE_W, IMAGE_H), "merge is image-sized")
        return read(merged, 0, 0, IMAGE_W, IMAGE_H).copy()
    finally:
        dup.delete()


def all_layers(image):
    out = []

    def walk(layers):
        for layer in layers:
            out.append(layer)
            if layer.is_group():
                walk(layer.get_children())

    walk(image.get_layers())
    return out


def build_scene():
    image = Gimp.Image.new(IMAGE_W, IMAGE_H, Gimp.ImageBaseType.RGB)
    background = Gimp.Layer.new(image, "Background", IMAGE_W, IMAGE_H, Gimp.ImageType.RGB_IMAGE, 100,
                                Gimp.LayerMode.NORMAL)
    image.insert_layer(background, None, 0)
    yy, xx = np.mgrid[0:IMAGE_H, 0:IMAGE_W]
    bg = np.stack([xx % 256, yy % 256, np.full_like(xx, 90), np.full_like(xx, 255)], axis=2)
    write(background, bg)

    photo = Gimp.Layer.new(image, "Photo", LAYER_W, LAYER_H, Gimp.ImageType.RGBA_IMAGE, 100, Gimp.LayerMode.NORMAL)
    image.insert_layer(photo, None, 0)
    photo.set_offsets(LAYER_X, LAYER_Y)
    ly, lx = np.mgrid[0:LAYER_H, 0:LAYER_W]
    rng = np.random.default_rng(3)
    pixels = np.stack([60 + lx % 40, 120 + ly % 50, 40 + (lx + ly) % 30, np.full_like(lx, 255)], axis=2)
    pixels = pixels + rng.integers(0, 20, pixels.shape)  # texture, so the engine has something to match
    sx, sy, sw, sh = SOURCE
    pixels[sy - LAYER_Y:sy - LAYER_Y + sh, sx - LAYER_X:sx - LAYER_X + sw, :3] = (220, 40, 40)  # the object
    pixels[14:18, :, 3] = 128  # half-transparent rows inside the crop, outside the edited area
    write(photo, np.clip(pixels, 0, 255))

    image.select_rectangle(Gimp.ChannelOps.REPLACE, *TARGET)
    target = Gimp.Selection.save(image)
    target.set_name("MAGIC target")
    image.select_rectangle(Gimp.ChannelOps.REPLACE, *SOURCE)
    return image, photo


def call_magic(image, layer, proc_name=PROC, **args):
    proc = Gimp.get_pdb().lookup_procedure(proc_name)
    check(proc is not None, f"procedure {proc_name} is not registered: the plug-in did not load (see GIMP's output)")
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    for name, value in args.items():
        config.set_property(name.replace("_", "-"), value)
    result = proc.run(config)
    status = result.index(0)
    error = Gimp.get_pdb().get_last_error() if status != Gimp.PDBStatusType.SUCCESS else ""
    group = result.index(1) if status == Gimp.PDBStatusType.SUCCESS and result.length() > 1 and \
        proc_name == PROC else None
    return status, error, group


def layer_summary(layer):
    _, x, y = layer.get_offsets()
    return (layer.get_name(), x, y, layer.get_width(), layer.get_height())


def test_success(image, photo, label, layer_type=None):
    t = time.monotonic()
    before = composite(image)
    photo_before = read(photo, 0, 0, LAYER_W, LAYER_H).copy()
    position = image.get_item_position(photo)
    t = stage(f"{label}: build and snapshot the image", t)

    status, error, returned = call_magic(image, photo, mode=MODE, preset=PRESET, variants=VARIANTS, seed=SEED)
    t = stage(f"{label}: Filters → MAGIC ({PRESET}, {VARIANTS} variants, server round trip)", t)
    check(status == Gimp.PDBStatusType.SUCCESS, f"MAGIC failed: {status}: {error}")

    group = image.get_layers()[position]
    check(group.is_group(), f"the layer above 'Photo' is {group.get_name()!r}, not the result group")
    check(returned is not None and returned.get_id() == group.get_id(), "the procedure returns the result group")
    check(image.get_item_position(photo) == position + 1, "the group sits directly above the source layer")
    check(group.get_parent() is None, "the group has the source layer's parent")
    check(group.get_name() == f"Run 1: MAGIC {MODE}, {PRESET}, seed {SEED}", f"group name {group.get_name()!r}")
    children = group.get_children()
    expected = [(f"#{i} {MODE}, {PRESET}, seed {SEED}", CROP_X, CROP_Y, CROP_W, CROP_H)
                for i in range(1, VARIANTS + 1)]
    check([layer_summary(c) for c in children] == expected,
          f"result layers {[layer_summary(c) for c in children]} != {expected}")
    check_after_run_state(image, group)
    if layer_type is not None:
        check(all(c.type() == layer_type for c in children),
              f"result layer types {[c.type().value_nick for c in children]}, expected {layer_type.value_nick}")

    after = composite(image)
    check(np.array_equal(read(photo, 0, 0, LAYER_W, LAYER_H), photo_before), "the source layer was modified")
    changed = np.any(after != before, axis=2)

    # Independent of how the plug-in masks its layers: where no variant
    # differs from the source layer (outside the crop, and inside it where
    # the engine kept the input, e.g. the half-transparent rows), the image
    # must look exactly as before.
    kept = np.ones((IMAGE_H, IMAGE_W), bool)
    source_in_crop = photo_before[CROP_Y - LAYER_Y:CROP_Y - LAYER_Y + CROP_H, CROP_X - LAYER_X:CROP_X - LAYER_X + CROP_W]
    for child in children:
        same = np.all(read(child, 0, 0, CROP_W, CROP_H) == source_in_crop, axis=2)
        kept[CROP_Y:CROP_Y + CROP_H, CROP_X:CROP_X + CROP_W] &= same
    check(not np.any(changed & kept),
          f"{int(np.count_nonzero(changed & kept))} pixels look different where no result changed them")

    # The layer masks mark the edited area: every visible change is inside them.
    edited = np.zeros((IMAGE_H, IMAGE_W), bool)
    for child in children:
        mask = child.get_mask()
        check(mask is not None, f"{child.get_name()} has no layer mask")
        values = read(mask, 0, 0, CROP_W, CROP_H, "Y u8", 1)
        check(set(np.unique(values)) <= {0, 255}, "the layer mask is binary")
        edited[CROP_Y:CROP_Y + CROP_H, CROP_X:CROP_X + CROP_W] |= values > 0
        tx, ty, tw, th = TARGET
        check(values[ty - CROP_Y:ty - CROP_Y + th, tx - CROP_X:tx - CROP_X + tw].all(),
              f"{child.get_name()}: the target area is not fully in the edited area")
    outside = ~edited
    check(not np.any(changed & outside),
          f"{int(np.count_nonzero(changed & outside))} pixels changed outside the edited area")
    check(np.count_nonzero(changed & edited) > 0, "the results changed nothing inside the edited area")
    check(np.count_nonzero(outside) > IMAGE_W * IMAGE_H // 2, "the edited area is most of the image")
    semi = np.zeros((IMAGE_H, IMAGE_W), bool)
    semi[LAYER_Y + 14:LAYER_Y + 18, LAYER_X:LAYER_X + LAYER_W] = True
    check(np.count_nonzero(semi & outside & (np.arange(IMAGE_W) >= CROP_X)[None, :]) > 0,
          "the half-transparent rows should cross the crop outside the edited area")
    print(f"OK {label}: {len(children)} layers {CROP_W}x{CROP_H} at ({CROP_X},{CROP_Y}); "
          f"{int(np.count_nonzero(changed))} px changed, all inside the {int(np.count_nonzero(edited))} px "
          f"edited area; {int(np.count_nonzero(outside))} px outside unchanged")
    stage(f"{label}: check layers and pixels", t)
    return group, after


def check_after_run_state(image, group, variants=None):
    """The first result is visible and selected (its pixels, not its mask),
    the others hidden: toggling shows each in turn."""
    children = group.get_children()[:variants]
    check([c.get_visible() for c in children] == [True] + [False] * (len(children) - 1),
          f"visibility after a run {[c.get_visible() for c in children]}")
    selected = image.get_selected_drawables()
    check([d.get_id() for d in selected] == [children[0].get_id()],
          f"selected after a run: {[d.get_name() for d in selected]}")
    check(not children[0].get_edit_mask(), "the result's layer mask is being edited, not its pixels")
    parasite = group.get_parasite("magic-gimp-results")
    check(parasite is not None, "the group carries no results parasite")
    # Not undoable, GIMP records its attachment as a step it cannot undo, and each
    # Ctrl+Z of the run shows "Can't undo Attach Parasite to Item".
    check(parasite.get_flags() & Gimp.PARASITE_UNDOABLE, "the results parasite is not undoable")


def result_group_of_test(layer):
    parent = layer.get_parent()
    return parent if parent is not None and parent.get_parasite("magic-gimp-results") is not None else None


def test_two_step_workflow():
    """Remember Object, move the selection, run MAGIC with no target channel,
    then Show Next Result cycles the variants."""
    t = time.monotonic()
    image, photo = build_scene()
    try:
        image.remove_channel(image.get_channel_by_name("MAGIC target"))  # only the selection says where
        count = len(all_layers(image))

        status, error, _ = call_magic(image, photo, REMEMBER_PROC)
        check(status == Gimp.PDBStatusType.SUCCESS, f"Remember Object failed: {error}")
        remembered = image.get_channel_by_name("MAGIC object")
        check(remembered is not None and remembered.get_visible(), "no visible 'MAGIC object' channel")
        sx, sy, sw, sh = SOURCE
        values = read(remembered, sx - 2, sy - 2, sw + 4, sh + 4, "Y u8", 1)
        check(values[2:-2, 2:-2].min() == 255 and values[0].max() == 0, "the channel is not the selection")
        check([d.get_id() for d in image.get_selected_drawables()] == [photo.get_id()],
              "Remember Object left something other than the layer selected")
        check(not Gimp.Selection.is_empty(image), "Remember Object dropped the selection")
        check(len(all_layers(image)) == count, "Remember Object added layers")

        # Not moved yet: the target is the object itself.
        status, error, _ = call_magic(image, photo, preset=PRESET)
        check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "covers exactly the object" in error,
              f"an unmoved selection gave {status}: {error!r}")
        check(len(all_layers(image)) == count, "a failed run created layers")

        Gimp.Selection.translate(image, *MOVE_BY)
        status, error, group = call_magic(image, photo, mode=MODE, preset=PRESET, variants=VARIANTS, seed=SEED)
        check(status == Gimp.PDBStatusType.SUCCESS, f"MAGIC after Remember Object failed: {error}")
        children = group.get_children()
        x, y, w, h = MOVED_CROP
        check([layer_summary(c)[1:] for c in children] == [(x, y, w, h)] * VARIANTS,
              f"two-step results at {[layer_summary(c) for c in children]}, expected {MOVED_CROP}: the moved "
              f"selection was not the target")
        check_after_run_state(image, group)
        check(not remembered.get_visible(), "the red object overlay still covers the results")
        check(image.get_channel_by_name("MAGIC object") is not None, "the remembered object is gone after a run")
        mask = read(children[0].get_mask(), 0, 0, w, h, "Y u8", 1)
        tx, ty = SOURCE[0] + MOVE_BY[0] - x, SOURCE[1] + MOVE_BY[1] - y
        check(mask[ty:ty + sh, tx:tx + sw].all(), "the moved selection is not inside the edited area")

        shown = []
        for _ in range(VARIANTS + 1):
            status, error, _ = call_magic(image, photo, NEXT_RESULT_PROC)
            check(status == Gimp.PDBStatusType.SUCCESS, f"Show Next Result failed: {error}")
            visible = [i for i, c in enumerate(children) if c.get_visible()]
            check(len(visible) == 1, f"Show Next Result left {len(visible)} results visible")
            selected = image.get_selected_drawables()
            check([d.get_id() for d in selected] == [children[visible[0]].get_id()], "the shown result is not selected")
            shown.append(visible[0])
        check(shown == [(i + 1) % VARIANTS for i in range(VARIANTS + 1)], f"Show Next Result showed {shown}")
        print(f"OK two-step workflow: remembered, selection moved by {MOVE_BY}, {VARIANTS} results at "
              f"({x},{y}) {w}x{h}; Show Next Result cycled {shown}")

        # A rerun with a result selected (as a run leaves it) works on the photo, not on the result.
        # Target moved 10 px left: (80,60)-(100,80); union with the source (40,30)-(100,80), long
        # side 60 -> margin 16; crop (24,14)-(116,96) -> 92x82 at image (54,34).
        Gimp.Selection.translate(image, -10, 0)
        selected = image.get_selected_drawables()
        check(result_group_of_test(selected[0]) is not None, "a result layer is selected after the run")
        status, error, again = call_magic(image, selected[0], mode=MODE, preset=PRESET, variants=VARIANTS, seed=SEED)
        check(status == Gimp.PDBStatusType.SUCCESS, f"a rerun from a result layer failed: {error}")
        # Runs stack as layers do: the new group on top of the first run's, its first result shown.
        check(again.get_parent() is None and image.get_item_position(again) + 1 == image.get_item_position(group)
              and image.get_item_position(group) + 1 == image.get_item_position(photo),
              f"layers after a rerun: {[layer.get_name() for layer in image.get_layers()]}")
        check(again.get_name().startswith("Run 2: ") and group.get_name().startswith("Run 1: "),
              f"the runs' groups are named {group.get_name()!r} and {again.get_name()!r}")
        check(again.get_visible() and not group.get_visible(), "the first run still shows under the second")
        check_after_run_state(image, again)
        check([layer_summary(c)[1:] for c in again.get_children()] == [(LAYER_X + 24, LAYER_Y + 14, 92, 82)] * VARIANTS,
              f"the rerun's results are at {[layer_summary(c) for c in again.get_children()]}")
        print("OK rerun from a result layer: new results made from the photo, on top of the first run's")

        Gimp.Selection.none(image)
        status, error, _ = call_magic(image, photo, REMEMBER_PROC)
        check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "Nothing is selected" in error,
              f"Remember Object without a selection gave {status}: {error!r}")
        check(image.get_channel_by_name("MAGIC object") is not None, "a failed Remember Object lost the old object")
    finally:
        image.delete()
    empty = Gimp.Image.new(40, 30, Gimp.ImageBaseType.RGB)
    try:
        layer = Gimp.Layer.new(empty, "L", 40, 30, Gimp.ImageType.RGB_IMAGE, 100, Gimp.LayerMode.NORMAL)
        empty.insert_layer(layer, None, 0)
        status, error, _ = call_magic(empty, layer, NEXT_RESULT_PROC)
        check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "no MAGIC results" in error,
              f"Show Next Result without results gave {status}: {error!r}")
    finally:
        empty.delete()
    stage("two-step workflow: remember, move the selection, run, show next result", t)


def test_feathered_selection():
    """A feathered selection is remembered with its soft edge, and MAGIC runs on it
    (the engine takes the soft edge as the object's opacity at the new place)."""
    t = time.monotonic()
    image, photo = build_scene()
    try:
        image.remove_channel(image.get_channel_by_name("MAGIC target"))
        Gimp.Selection.feather(image, 6.0)
        status, error, _ = call_magic(image, photo, REMEMBER_PROC)
        check(status == Gimp.PDBStatusType.SUCCESS, f"Remember Object failed on a feathered selection: {error}")
        sx, sy, sw, sh = SOURCE
        values = read(image.get_channel_by_name("MAGIC object"), sx - 6, sy - 6, sw + 12, sh + 12, "Y' u8", 1)
        soft = int(((values > 0) & (values < 255)).sum())
        check(soft > 2 * (sw + sh) and values.max() >= 128, f"the remembered object lost its soft edge ({soft} soft px)")
        Gimp.Selection.translate(image, *MOVE_BY)
        status, error, group = call_magic(image, photo, mode=MODE, preset=PRESET, variants=VARIANTS, seed=SEED)
        check(status == Gimp.PDBStatusType.SUCCESS, f"MAGIC on a feathered selection failed: {error}")
        check(len(group.get_children()) == VARIANTS, "MAGIC on a feathered selection gave no results")
        print(f"OK feathered selection: remembered with {soft} soft px, {VARIANTS} results")
    finally:
        image.delete()
    stage("feathered selection: remembered soft, run", t)


def test_cut_out_layer():
    """An object cut out onto a transparent layer, over a background, moved: where it
    was the background shows, it arrives opaque, no transparent pixel outside the
    target turns opaque, and the source layer is hidden under a copy of it with the
    edited area cut out (Show Next Result leaves that copy shown)."""
    t = time.monotonic()
    image, photo = build_scene()
    try:
        sx, sy, sw, sh = SOURCE
        tx, ty, tw, th = TARGET
        cut = read(photo, 0, 0, LAYER_W, LAYER_H).copy()
        cut[..., 3] = 0
        cut[sy - LAYER_Y + 2:sy - LAYER_Y + sh - 2, sx - LAYER_X + 2:sx - LAYER_X + sw - 2, 3] = 255  # the object
        write(photo, cut)
        background = read(image.get_layers()[-1], 0, 0, IMAGE_W, IMAGE_H)
        before = composite(image)
        status, error, group = call_magic(image, photo, mode=MODE, preset=PRESET, variants=VARIANTS, seed=SEED)
        check(status == Gimp.PDBStatusType.SUCCESS, f"MAGIC on a cut-out layer failed: {status}: {error}")
        children = group.get_children()
        check([c.get_name() for c in children][VARIANTS:] == ["Photo (outside the edit)"],
              f"the cut-out run's group holds {[c.get_name() for c in children]}")
        check(not photo.get_visible() and children[-1].get_visible(), "the source layer still shows under the results")
        check_after_run_state(image, group, VARIANTS)
        after = composite(image)
        inside = (slice(sy + 3, sy + sh - 3), slice(sx + 3, sx + sw - 3))
        check(np.abs(after[inside].astype(int) - background[inside]).max() <= 2,
              "where the object was, the background layer does not show")
        shown = read(children[0], 0, 0, CROP_W, CROP_H)  # (the tiny preset's colours mean nothing)
        check(shown[ty + th // 2 - CROP_Y, tx + tw // 2 - CROP_X, 3] == 255, "the moved object is not opaque")
        check(shown[sy + sh // 2 - CROP_Y, sx + sw // 2 - CROP_X, 3] == 0, "the place it left is not transparent")
        elsewhere = np.ones((IMAGE_H, IMAGE_W), bool)
        elsewhere[sy:sy + sh, sx:sx + sw] = elsewhere[ty:ty + th, tx:tx + tw] = False
        check(np.array_equal(after[elsewhere], before[elsewhere]),
              f"{int(np.count_nonzero(np.any(after != before, axis=2) & elsewhere))} px outside the object's old "
              f"and new place changed (transparent pixels turned opaque?)")
        for _ in range(VARIANTS):
            status, error, _ = call_magic(image, photo, NEXT_RESULT_PROC)
            check(status == Gimp.PDBStatusType.SUCCESS, f"Show Next Result failed: {error}")
            check(children[-1].get_visible() and sum(c.get_visible() for c in children[:VARIANTS]) == 1,
                  f"Show Next Result on a cut-out run: visible {[c.get_visible() for c in children]}")
        # A second run: its group holds a shown copy too, or the layer would vanish outside the edit.
        status, error, again = call_magic(image, photo, mode=MODE, preset=PRESET, variants=VARIANTS, seed=SEED + 1)
        check(status == Gimp.PDBStatusType.SUCCESS, f"a second run on the cut-out layer failed: {error}")
        outside = again.get_children()[-1]
        check(outside.get_name().startswith("Photo (outside the edit)") and outside.get_visible()
              and not group.get_visible(),
              f"the second run's group holds {[(c.get_name(), c.get_visible()) for c in again.get_children()]}")
        again_after = composite(image)
        check(np.array_equal(again_after[elsewhere], before[elsewhere]),
              "after a second run the image changed outside the object's old and new place")
        print(f"OK cut-out layer: the background shows where the object was, {VARIANTS} results over the "
              f"layer's copy with the edited area cut out, the layer itself hidden; a second run keeps it so")
    finally:
        image.delete()
    stage("cut-out layer: transparency kept", t)


def test_tight_area():
    """The Area choice reaches the crop: a tight area sends less of the layer around the edit."""
    t = time.monotonic()
    image, photo = build_scene()
    try:
        status, error, group = call_magic(image, photo, mode=MODE, preset=PRESET, variants=VARIANTS, seed=SEED,
                                          area="tight")
        check(status == Gimp.PDBStatusType.SUCCESS, f"MAGIC with the tight area failed: {status}: {error}")
        summaries = [layer_summary(c)[1:] for c in group.get_children()]
        check(summaries == [TIGHT_CROP] * VARIANTS, f"tight-area result layers {summaries} != {TIGHT_CROP}")
        print(f"OK tight area: {VARIANTS} layers {TIGHT_CROP[2]}x{TIGHT_CROP[3]} at {TIGHT_CROP[:2]}")
    finally:
        image.delete()
    stage("tight area: the crop sent", t)


def test_xcf_round_trip(image, group, after):
    t = time.monotonic()
    path = os.path.join(TEST_DIR, "magic-result.xcf")
    saved = Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path), None)
    check(saved and os.path.getsize(path) > 0, f"saving {path} failed")
    loaded = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    try:
        names = [layer.get_name() for layer in loaded.get_layers()]
        check(names == [group.get_name(), "Photo", "Background"], f"reloaded top-level layers {names}")
        reloaded = loaded.get_layers()[0]
        check([layer_summary(c) for c in reloaded.get_children()] ==
              [layer_summary(c) for c in group.get_children()], "result layers differ after reloading")
        check(reloaded.get_parasite("magic-gimp-results") is not None, "the results parasite was not saved")
        check([c.get_visible() for c in reloaded.get_children()] == [c.get_visible() for c in group.get_children()],
              "visibility differs after reloading")
        check(np.array_equal(composite(loaded), after), "the reloaded image looks different")
    finally:
        loaded.delete()
    print(f"OK saved and reloaded {path} ({os.path.getsize(path)} bytes)")
    stage("save as XCF and reload", t)


def test_failures_create_nothing(image, photo):
    t = time.monotonic()
    count = len(all_layers(image))
    empty = Gimp.Channel.new(image, "empty target", IMAGE_W, IMAGE_H, 100.0, Gegl.Color.new("black"))
    image.insert_channel(empty, None, 0)
    write(empty, np.zeros((IMAGE_H, IMAGE_W), np.uint8), "Y u8")
    status, error, _ = call_magic(image, photo, preset=PRESET, target_mask=empty)
    check(status == Gimp.PDBStatusType.EXECUTION_ERROR, f"an empty target mask gave {status}")
    check("target mask" in error and "is empty" in error, f"unhelpful message for an empty target: {error!r}")
    check(len(all_layers(image)) == count, "a failed run created layers")
    print(f"OK empty target mask -> error: {error.splitlines()[0]}")

    status, error, _ = call_magic(image, photo, preset=PRESET, server=os.path.join(TEST_DIR, "no-server.json"))
    check(status == Gimp.PDBStatusType.EXECUTION_ERROR, f"an unstartable server gave {status}")
    check("not installed" in error and "installer" in error, f"unhelpful message for a missing server: {error!r}")
    check(len(all_layers(image)) == count, "a failed run created layers")
    print(f"OK server not installed -> error: {error.splitlines()[0]}")

    # GIMP's Python without pyzmq: a vendored 'zmq' that cannot be imported
    # shadows the system one (the plug-in puts vendor/ first on sys.path).
    fake_zmq = os.path.join(Gimp.directory(), "plug-ins", "magic-gimp", "vendor", "zmq")
    check(not os.path.exists(os.path.dirname(fake_zmq)), "the test installs without vendor/ (--no-vendor-zmq)")
    os.makedirs(fake_zmq)
    try:
        with open(os.path.join(fake_zmq, "__init__.py"), "w") as f:
            f.write("raise ImportError('pyzmq is not installed (test)')\n")
        status, error, _ = call_magic(image, photo, preset=PRESET)
    finally:
        shutil.rmtree(os.path.dirname(fake_zmq))
    check(status == Gimp.PDBStatusType.EXECUTION_ERROR, f"a missing pyzmq gave {status}")
    check("sudo apt install python3-zmq" in error and "installer" in error,
          f"unhelpful message for a missing pyzmq: {error!r}")
    check(len(all_layers(image)) == count, "a failed run created layers")
    print(f"OK pyzmq missing -> error: {error.splitlines()[0]}")

    Gimp.Selection.none(image)
    status, error, _ = call_magic(image, photo, preset=PRESET)
    check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "Nothing is selected" in error,
          f"no selection gave {status}: {error!r}")
    check(len(all_layers(image)) == count, "a failed run created layers")
    print(f"OK no selection -> error: {error.splitlines()[0]}")
    stage("failure paths (empty target, no server, no pyzmq, no selection)", t)


def test_other_image_kinds():
    """Grey 16-bit and linear float RGB images: same placement, layers of the
    image's own kind, nothing changed outside the edited area."""
    image, photo = build_scene()
    try:
        image.convert_grayscale()
        image.convert_precision(Gimp.Precision.U16_NON_LINEAR)
        test_success(image, photo, "grey 16-bit image", Gimp.ImageType.GRAYA_IMAGE)
    finally:
        image.delete()
    image, photo = build_scene()
    try:
        image.convert_precision(Gimp.Precision.FLOAT_LINEAR)
        test_success(image, photo, "float linear RGB image", Gimp.ImageType.RGBA_IMAGE)
    finally:
        image.delete()
    image, photo = build_scene()
    try:
        image.convert_precision(Gimp.Precision.U8_PERCEPTUAL)  # its channels are stored as "Y u8"
        test_success(image, photo, "8-bit perceptual RGB image", Gimp.ImageType.RGBA_IMAGE)
    finally:
        image.delete()
    image, photo = build_scene()
    try:
        image.convert_indexed(Gimp.ConvertDitherType.NONE, Gimp.ConvertPaletteType.GENERATE, 64, False, False, "")
        count = len(all_layers(image))
        status, error, _ = call_magic(image, photo, preset=PRESET)
        check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "Image → Mode → RGB" in error,
              f"an indexed image gave {status}: {error!r}")
        check(len(all_layers(image)) == count, "a failed run created layers")
        print(f"OK indexed image -> error: {error.splitlines()[0]}")
    finally:
        image.delete()


def choose_server(kind, address="", key=""):
    """Filters → MAGIC → Server Settings, as a script sets it -> (status, error, this computer's key)."""
    proc = Gimp.get_pdb().lookup_procedure(SERVER_PROC)
    check(proc is not None, f"procedure {SERVER_PROC} is not registered")
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("server-kind", kind)
    config.set_property("address", address)
    config.set_property("server-key", key)
    result = proc.run(config)
    status = result.index(0)
    if status != Gimp.PDBStatusType.SUCCESS:
        return status, Gimp.get_pdb().get_last_error(), None
    return status, "", result.index(1)


def test_studio_server():
    """A studio server (--curve on the host): refused until its admin allows this
    computer's key, then the run goes there; the spool shows where it ran."""
    t = time.monotonic()
    with open(os.path.join(TEST_DIR, "studio-server.json"), encoding="utf-8") as f:
        studio = json.load(f)
    status, error, _ = choose_server("studio", "gpu-box", studio["server_key"])
    check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "tcp://HOST:PORT" in error,
          f"a bad address gave {status}: {error!r}")
    status, error, _ = choose_server("studio", studio["endpoint"], "not-a-key")
    check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "not a CURVE public key" in error,
          f"a bad server key gave {status}: {error!r}")
    status, error, client_key = choose_server("studio", studio["endpoint"], studio["server_key"])
    check(status == Gimp.PDBStatusType.SUCCESS and client_key and len(client_key) == 40,
          f"choosing the studio server gave {status}: {error!r}, key {client_key!r}")
    image, photo = build_scene()
    try:
        count = len(all_layers(image))
        status, error, _ = call_magic(image, photo, preset=PRESET, variants=1)
        check(status == Gimp.PDBStatusType.EXECUTION_ERROR and "does not allow this computer's key" in error
              and client_key in error and "Server Settings" in error, f"a key not yet allowed gave {status}: {error!r}")
        check(len(all_layers(image)) == count, "a refused run created layers")
        print(f"OK studio server, key not allowed -> error: {error.splitlines()[0]}")
        with open(os.path.join(TEST_DIR, "allowed-keys.txt"), "a", encoding="utf-8") as f:
            f.write(f"{client_key}  # the GIMP test\n")
        jobs = os.path.join(TEST_DIR, "studio-spool", "jobs")  # one folder per job (server/spool.py)
        before = set(os.listdir(jobs)) if os.path.isdir(jobs) else set()
        status, error, group = call_magic(image, photo, preset=PRESET, variants=1)
        check(status == Gimp.PDBStatusType.SUCCESS and group is not None, f"the studio run gave {status}: {error!r}")
        ran_there = set(os.listdir(jobs)) - before
        check(len(ran_there) == 1, f"the job did not run on the studio server (new in its spool: {ran_there})")
        print(f"OK studio server: job {ran_there.pop()} ran there, {len(group.get_children())} result layer(s)")
    finally:
        image.delete()
        status, error, _ = choose_server("this-computer")
        check(status == Gimp.PDBStatusType.SUCCESS, f"choosing this computer again gave {status}: {error!r}")
    stage("studio server (Server Settings, refused key, allowed key, a run there)", t)


def main():
    os.makedirs(TEST_DIR, exist_ok=True)
    start = time.monotonic()
    choose_server("this-computer")  # the root is reused: a run that failed half-way may have left a studio
    image, photo = build_scene()
    try:
        group, after = test_success(image, photo, "RGB 8-bit image", Gimp.ImageType.RGBA_IMAGE)
        test_xcf_round_trip(image, group, after)
        test_failures_create_nothing(image, photo)
    finally:
        image.delete()
    test_two_step_workflow()
    test_feathered_selection()
    test_cut_out_layer()
    test_tight_area()
    test_other_image_kinds()
    test_studio_server()
    for name, seconds in timings:
        print(f"TIMING {seconds:7.2f} s  {name}")
    print(f"ALL GIMP TESTS PASSED in {time.monotonic() - start:.1f} s")


main()
