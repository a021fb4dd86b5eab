"""GIMP 3 batch script: a soft matte of an object with GIMP's own Foreground Select
(matting engine), as a designer makes one. Run in GIMP's console:

    MATTE_PHOTO=photo.jpg MATTE_TRIMAP=trimap.png MATTE_OUT=matte.png \
        gimp-console-3.0 -i --batch-interpreter=python-fu-eval -b - --quit < examples/foreground_select.py

The trimap is a grey image of the photo's size: 0 where the photo is background,
255 where it is certainly the object, anything else where Foreground Select decides
(make_cases.py --trimaps writes the bundled cases' trimaps). The matte is written as
an 8-bit grey PNG: the selection Foreground Select leaves.
"""

import os

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402


def load(path):
    return Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.path.abspath(path)))


photo = load(os.environ["MATTE_PHOTO"])
trimap = load(os.environ["MATTE_TRIMAP"])
width, height = photo.get_width(), photo.get_height()
everything = Gegl.Rectangle.new(0, 0, width, height)
# The trimap's values as stored (a grey PNG is non-linear 8-bit), into a channel of the photo.
values = trimap.get_layers()[0].get_buffer().get(everything, 1.0, "Y' u8", Gegl.AbyssPolicy.NONE)
mask = Gimp.Channel.new(photo, "trimap", width, height, 100.0, Gegl.Color.new("black"))
photo.insert_channel(mask, None, 0)
mask.get_buffer().set(everything, "Y' u8", bytes(values))
mask.get_buffer().flush()
if not photo.get_layers()[0].foreground_extract(Gimp.ForegroundExtractMode.MATTING, mask):
    raise SystemExit("Foreground Select failed")
# Save the selection as a grey image: a new grey image whose only layer holds its values.
matte = photo.get_selection().get_buffer().get(everything, 1.0, "Y' u8", Gegl.AbyssPolicy.NONE)
out = Gimp.Image.new(width, height, Gimp.ImageBaseType.GRAY)
layer = Gimp.Layer.new(out, "matte", width, height, Gimp.ImageType.GRAY_IMAGE, 100, Gimp.LayerMode.NORMAL)
out.insert_layer(layer, None, 0)
layer.get_buffer().set(everything, "Y' u8", bytes(matte))
layer.get_buffer().flush()
Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, out, Gio.File.new_for_path(os.path.abspath(os.environ["MATTE_OUT"])),
               None)
print("matte written to", os.environ["MATTE_OUT"])
for image in (photo, trimap, out):
    image.delete()
