# GIMP GUI side of tests/gimp/screenshot.sh (python-fu-eval batch script).
#
# Opens the bundled rocket example, selects the rocket (its source mask)
# and runs the designer's two steps: Filters → MAGIC → Remember Object, then
# the selection is replaced by the target mask (as the Move tool in
# selection mode or a transform tool would leave it) and Move or Reshape
# Object runs INTERACTIVE, so its dialog shows; screenshot.sh drives the
# dialogs with xdotool. Run 1 is cancelled from the progress window, run 2
# is left to finish, Show Next Result is used once; then the rocket cut out
# onto a transparent layer (a second image) is moved; run 3 has no selection
# and run 4 no server (stopped, and its command is not installed): both must
# be refused in the dialog itself. Outcomes are appended to
# $MAGIC_SHOT_DIR/outcome.log; the script waits for screenshot.sh at the
# points named by wait_for().

import os
import time

SHOT_DIR = os.environ.get("MAGIC_SHOT_DIR", "/tmp/magic-shot")
CASE = os.path.join(SHOT_DIR, "case")


def load_mask(path):
    mask_image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    layer = mask_image.get_layers()[0]
    w, h = layer.get_width(), layer.get_height()
    data = bytes(layer.get_buffer().get(Gegl.Rectangle.new(0, 0, w, h), 1.0, "Y u8", Gegl.AbyssPolicy.NONE))
    mask_image.delete()
    return w, h, data


def select_mask(image, path):
    """The selection becomes the mask in `path` (through a temporary channel)."""
    w, h, data = load_mask(path)
    channel = Gimp.Channel.new(image, "tmp", w, h, 50.0, Gegl.Color.new("black"))
    image.insert_channel(channel, None, 0)
    buf = channel.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, w, h), "Y u8", data)
    buf.flush()
    image.select_item(Gimp.ChannelOps.REPLACE, channel)
    image.remove_channel(channel)


def layer_tree(image):
    out = []
    for layer in image.get_layers():
        _, x, y = layer.get_offsets()
        out.append(f"{layer.get_name()} {layer.get_width()}x{layer.get_height()}+{x}+{y} "
                   f"visible={layer.get_visible()}")
        if layer.is_group():
            for child in layer.get_children():
                _, x, y = child.get_offsets()
                out.append(f"  {child.get_name()} {child.get_width()}x{child.get_height()}+{x}+{y} "
                           f"visible={child.get_visible()}")
    selected = ", ".join(d.get_name() for d in image.get_selected_drawables())
    out.append(f"selected: {selected}")
    return out


def note(text):
    with open(os.path.join(SHOT_DIR, "outcome.log"), "a", encoding="utf-8") as f:
        f.write(text + "\n")


def wait_for(name, timeout=600):
    """Block until screenshot.sh creates $SHOT_DIR/<name> (it took its picture)."""
    path = os.path.join(SHOT_DIR, name)
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.2)


def cut_out_run():
    """The rocket cut out onto a transparent layer, moved: where it was turns transparent."""
    cut = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.path.join(CASE, "image.jpg")))
    layer = cut.get_layers()[0]
    layer.set_name("Rocket cut-out")
    layer.add_alpha()
    select_mask(cut, os.path.join(CASE, "source.png"))
    Gimp.Selection.grow(cut, 6)  # a designer's cut-out keeps a little sky around the object
    Gimp.Selection.invert(cut)
    layer.edit_clear()
    select_mask(cut, os.path.join(CASE, "source.png"))
    status, error = call("python-fu-magic-remember-object", cut, [layer])
    note(f"cutout remember status {status.value_nick} {error!r}")
    select_mask(cut, os.path.join(CASE, "target.png"))
    cut.set_selected_layers([layer])
    shown = Gimp.Display.new(cut)
    Gimp.displays_flush()
    status, error = call("python-fu-magic", cut, [layer], interactive=True)
    note(f"cutout status {status.value_nick} {error!r}")
    for line in layer_tree(cut):
        note(f"cutout layer {line}")
    Gimp.Selection.none(cut)
    Gimp.displays_flush()
    wait_for("cutout-taken")
    shown.delete()
    Gimp.displays_flush()


def call(proc_name, image, drawables, interactive=False):
    proc = Gimp.get_pdb().lookup_procedure(proc_name)
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.INTERACTIVE if interactive else Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    result = proc.run(config)
    status = result.index(0)
    error = Gimp.get_pdb().get_last_error() if status != Gimp.PDBStatusType.SUCCESS else ""
    return status, error


image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.path.join(CASE, "image.jpg")))
photo = image.get_layers()[0]
photo.set_name("Rocket photo")
image.set_selected_layers([photo])
display = Gimp.Display.new(image)

# Step 1: the rocket is selected; Remember Object.
select_mask(image, os.path.join(CASE, "source.png"))
status, error = call("python-fu-magic-remember-object", image, [photo])
note(f"remember status {status.value_nick} {error!r}")
# Step 2: the designer moves the selection to the target.
select_mask(image, os.path.join(CASE, "target.png"))
image.set_selected_layers([photo])
Gimp.displays_flush()
note("canvas ready")
wait_for("canvas-taken")

for run in (1, 2, 3, 4):
    if run == 3:
        Gimp.Selection.none(image)  # with the object remembered there is then no target: refused in the dialog
        Gimp.displays_flush()
    if run == 4:  # a good edit, but the server is gone and cannot be started: refused in the dialog
        select_mask(image, os.path.join(CASE, "target.png"))
        Gimp.displays_flush()
        wait_for("server-stopped")
    note(f"run {run} started")
    started = time.monotonic()
    status, error = call("python-fu-magic", image, [photo], interactive=True)
    note(f"run {run} status {status.value_nick} {error!r} after {time.monotonic() - started:.1f} s "
         f"(dialog included)")
    for line in layer_tree(image):
        note(f"run {run} layer {line}")
    if run == 2 and status == Gimp.PDBStatusType.SUCCESS:
        wait_for("result-taken")
        status, error = call("python-fu-magic-next-result", image, image.get_selected_drawables())
        Gimp.displays_flush()
        note(f"next result status {status.value_nick} {error!r}")
        for line in layer_tree(image):
            note(f"next layer {line}")
        note("next shown")
        wait_for("next-taken")
        cut_out_run()
# Filters → MAGIC → Server Settings, after a script chose a studio server where none listens.
proc = Gimp.get_pdb().lookup_procedure("python-fu-magic-server-settings")
config = proc.create_config()
config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
for name, value in (("server-kind", "studio"), ("address", "tcp://127.0.0.1:9"),
                    ("server-key", "rq5@Z8]Xvp-I{W7sHi)k3N*9PfzP[d=JbE2cLq0n")):
    config.set_property(name, value)
note(f"studio chosen {proc.run(config).index(0).value_nick}")
config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
result = proc.run(config)
note(f"server settings status {result.index(0).value_nick}")
config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
config.set_property("server-kind", "this-computer")
note(f"this computer chosen {proc.run(config).index(0).value_nick}")
note("finished")
