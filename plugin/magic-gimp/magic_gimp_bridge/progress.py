"""Showing a job's progress: GIMP's own progress bar always, plus (when a
person runs the filter) a small dialog with a live preview and a Cancel
button that really cancels the job on the server.

GIMP's status-bar Cancel kills the plug-in outright (SIGKILL), so it cannot
be handled here; jobs are submitted with cancel_if_silent_s so the server
cancels them when the plug-in goes away."""

from __future__ import annotations

import sys

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

PREVIEW_SIDE = 192  # px, the preview's longer side in the dialog
WINDOW_WIDTH = 420  # px; every row has a fixed size, so the window never grows and Cancel never moves
TEXT_LINES = 2  # the status line wraps to at most this many lines
NOTE_LINES = 4  # the note under the preview (a hint, or the untrained-weights warning)


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

    def note(self, text: str, warning: bool = False) -> None:
        """A longer note beside the progress (the untrained-weights warning)."""
        if warning:
            print(f"magic-gimp: {text}", file=sys.stderr)  # batch runs: the log, never a modal box

    def tick(self) -> None:
        if self.fraction is None:
            Gimp.progress_pulse()  # work of unknown length: show it is alive

    def close(self) -> None:
        Gimp.progress_end()


class DialogProgress(GimpProgress):
    """GIMP's progress bar plus our own window with a Cancel button."""

    def __init__(self, title: str, text: str, hint: str = ""):
        super().__init__(text)
        gi.require_version("GimpUi", "3.0")
        gi.require_version("Gtk", "3.0")
        gi.require_version("Pango", "1.0")
        from gi.repository import GimpUi, Gtk, Pango

        self._Gtk = Gtk
        self._cancel = False
        dialog = GimpUi.Dialog(title=title, role="magic-progress")
        dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        dialog.connect("response", self._on_response)
        dialog.set_resizable(False)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8)
        box.set_border_width(12)
        box.set_size_request(WINDOW_WIDTH, -1)
        dialog.get_content_area().add(box)

        def fixed_label(lines: int):
            label = Gtk.Label(xalign=0.0, yalign=0.0)
            label.set_line_wrap(True)
            label.set_ellipsize(Pango.EllipsizeMode.END)
            label.set_lines(lines)
            label.set_max_width_chars(1)  # the width comes from the box, not from the text
            label.set_size_request(WINDOW_WIDTH, -1)
            height = label.create_pango_layout("X").get_pixel_size()[1]
            label.set_size_request(WINDOW_WIDTH, lines * height + 2)
            return label

        self.label = fixed_label(TEXT_LINES)
        self.label.set_text(text)
        box.pack_start(self.label, False, False, 0)
        self.bar = Gtk.ProgressBar()
        box.pack_start(self.bar, False, False, 0)
        # The preview's room is there from the start: its arrival moves nothing.
        frame = Gtk.Frame()
        frame.set_size_request(PREVIEW_SIDE + 8, PREVIEW_SIDE + 8)
        self.image = Gtk.Image()
        frame.add(self.image)
        box.pack_start(frame, False, False, 0)
        self.note_label = fixed_label(NOTE_LINES)
        self.note_label.set_text(hint)
        box.pack_start(self.note_label, False, False, 0)
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

    def note(self, text: str, warning: bool = False) -> None:
        self.note_label.set_text(text)
        self.note_label.set_tooltip_text(text)  # the whole text, should it be cut
        if warning:
            self.note_label.get_style_context().add_class("warning")
        super().note(text, warning=False)

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
