"""Showing a job's progress: GIMP's own progress bar always, plus (when a
person runs the filter) a small dialog with a live preview and a Cancel
button that really cancels the job on the server.

GIMP's status-bar Cancel kills the plug-in outright (SIGKILL), so it cannot
be handled here; jobs are submitted with cancel_if_silent_s so the server
cancels them when the plug-in goes away."""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

PREVIEW_SIDE = 192  # px, the preview's longer side in the dialog


class GimpProgress:
    """GIMP's progress bar (status bar, or nothing in batch mode)."""

    def __init__(self, text: str = "MAGIC"):
        Gimp.progress_init(text)
        self.fraction = None

    @property
    def cancel_requested(self) -> bool:
        return False  # GIMP kills the plug-in instead of telling it

    def show(self, text: str, fraction) -> None:
        Gimp.progress_set_text(text)
        self.fraction = fraction
        if fraction is not None:
            Gimp.progress_update(fraction)

    def preview(self, width: int, height: int, rgb: bytes) -> None:
        pass

    def tick(self) -> None:
        if self.fraction is None:
            Gimp.progress_pulse()  # work of unknown length: show it is alive

    def close(self) -> None:
        Gimp.progress_end()


class DialogProgress(GimpProgress):
    """GIMP's progress bar plus our own window with a Cancel button."""

    def __init__(self, title: str, text: str):
        super().__init__(text)
        gi.require_version("GimpUi", "3.0")
        gi.require_version("Gtk", "3.0")
        from gi.repository import GimpUi, Gtk

        self._Gtk = Gtk
        self._cancel = False
        dialog = GimpUi.Dialog(title=title, role="magic-progress")
        dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        dialog.connect("response", self._on_response)
        dialog.set_default_size(360, -1)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8)
        box.set_border_width(12)
        dialog.get_content_area().add(box)
        self.label = Gtk.Label(label=text, xalign=0.0)
        self.label.set_line_wrap(True)
        box.pack_start(self.label, False, False, 0)
        self.bar = Gtk.ProgressBar()
        box.pack_start(self.bar, False, False, 0)
        self.image = Gtk.Image()
        box.pack_start(self.image, False, False, 0)
        dialog.show_all()
        try:
            GimpUi.window_set_transient(dialog)  # stay above GIMP's image window
        except (AttributeError, TypeError):
            pass
        self.dialog = dialog
        self.tick()

    def _on_response(self, _dialog, response) -> None:
        if response in (self._Gtk.ResponseType.CANCEL, self._Gtk.ResponseType.DELETE_EVENT):
            if not self._cancel:
                self._cancel = True
                self.label.set_text("Cancelling…")
                self.dialog.set_response_sensitive(self._Gtk.ResponseType.CANCEL, False)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel

    def show(self, text: str, fraction) -> None:
        super().show(text, fraction)
        if not self._cancel:
            self.label.set_text(text)
        if fraction is not None:
            self.bar.set_fraction(fraction)

    def preview(self, width: int, height: int, rgb: bytes) -> None:
        from gi.repository import GdkPixbuf, GLib

        pixbuf = GdkPixbuf.Pixbuf.new_from_bytes(GLib.Bytes.new(rgb), GdkPixbuf.Colorspace.RGB, False, 8,
                                                 width, height, width * 3)
        scale = PREVIEW_SIDE / max(width, height)
        pixbuf = pixbuf.scale_simple(max(1, round(width * scale)), max(1, round(height * scale)),
                                     GdkPixbuf.InterpType.BILINEAR)
        self.image.set_from_pixbuf(pixbuf)

    def tick(self) -> None:
        if self.fraction is None:
            self.bar.pulse()
        super().tick()
        Gtk = self._Gtk
        while Gtk.events_pending():  # keep the window drawn and the Cancel button live
            Gtk.main_iteration_do(False)

    def close(self) -> None:
        super().close()
        self.dialog.destroy()
        while self._Gtk.events_pending():
            self._Gtk.main_iteration_do(False)
