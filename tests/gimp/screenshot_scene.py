# GIMP GUI side of tests/gimp/screenshot.sh (python-fu-eval batch script).
# Opens the bundled rocket example with its source mask as the selection and
# its target mask as the 'MAGIC target' channel, then runs Filters → MAGIC
# INTERACTIVE, so that the dialog shows; screenshot.sh drives the dialogs
# with xdotool. Run 1 is cancelled from the progress dialog, run 2 is left
# to finish, run 3 has no selection and must fail with a message. Each outcome is appended to $MAGIC_SHOT_DIR/outcome.log.

import os

SHOT_DIR = os.environ.get("MAGIC_SHOT_DIR", "/tmp/magic-shot")
CASE = os.path.join(SHOT_DIR, "case")


def load_mask(image, path, name, color):
    mask_image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    layer = mask_image.get_layers()[0]
    w, h = layer.get_width(), layer.get_height()
    data = layer.get_buffer().get(Gegl.Rectangle.new(0, 0, w, h), 1.0, "Y u8", Gegl.AbyssPolicy.NONE)
    mask_image.delete()
    channel = Gimp.Channel.new(image, name, w, h, 35.0, Gegl.Color.new(color))
    image.insert_channel(channel, None, 0)
    buf = channel.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, w, h), "Y u8", bytes(data))
    buf.flush()
    channel.update(0, 0, w, h)
    return channel


def layer_tree(image):
    out = []
    for layer in image.get_layers():
        _, x, y = layer.get_offsets()
        out.append(f"{layer.get_name()} {layer.get_width()}x{layer.get_height()}+{x}+{y}")
        if layer.is_group():
            for child in layer.get_children():
                _, x, y = child.get_offsets()
                out.append(f"  {child.get_name()} {child.get_width()}x{child.get_height()}+{x}+{y}")
    return out


def note(text):
    with open(os.path.join(SHOT_DIR, "outcome.log"), "a", encoding="utf-8") as f:
        f.write(text + "\n")


image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.path.join(CASE, "image.jpg")))
photo = image.get_layers()[0]
photo.set_name("Rocket photo")
source = load_mask(image, os.path.join(CASE, "source.png"), "rocket (source)", "red")
source.set_visible(False)
target = load_mask(image, os.path.join(CASE, "target.png"), "MAGIC target", "white")
target.set_visible(True)  # GIMP veils the rest of the photo, so the target area stands out
image.select_item(Gimp.ChannelOps.REPLACE, source)
image.set_selected_layers([photo])
Gimp.Display.new(image)
Gimp.displays_flush()

proc = Gimp.get_pdb().lookup_procedure("python-fu-magic")
for run in (1, 2, 3):
    if run == 3:
        Gimp.Selection.none(image)  # run 3 must fail with a message, and add nothing
        Gimp.displays_flush()
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [photo])
    note(f"run {run} started")
    result = proc.run(config)
    status = result.index(0)
    error = Gimp.get_pdb().get_last_error() if status != Gimp.PDBStatusType.SUCCESS else ""
    note(f"run {run} status {status.value_nick} {error!r}")
    for line in layer_tree(image):
        note(f"run {run} layer {line}")
note("finished")
