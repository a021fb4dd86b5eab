"""The MAGIC dialog: what will happen, before OK.

It shows where the object and the target come from (with a thumbnail of
both over the layer), the area MAGIC works on, problems it can already see
(OK stays off until they are fixed), the server's state (it is started in
the background if it is not running; one that cannot be reached or started
is such a problem, told in full) and, for each preset, how long this
server takes for this area, as the server measured it; a tighter area
around the edit, with its own time, is one choice away. Settings a
designer has no use for (server file, variants, the test preset) live in
the settings file, not here.

GTK runs on this thread; the server is asked on a worker thread, which
hands its answers over through a queue read by a GLib timer.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import GdkPixbuf, Gegl, GLib, GimpUi, Gtk  # noqa: E402

from magic_gimp_core import choices, messages, preflight, thumbnail  # noqa: E402
from magic_common.limits import MIN_IMAGE_SIDE  # noqa: E402
from magic_common.masks import count_inside  # noqa: E402
from magic_common.region import CONTEXT_MARGIN, MIN_CONTEXT, region_rule_from_hello  # noqa: E402
from magic_gimp_core.naming import SEED_MAX, SEED_RANDOM  # noqa: E402
from magic_gimp_core.plan import plan_crop  # noqa: E402
from magic_gimp_core.server_job import CONNECT_TIMEOUT_S, connect, connect_studio, uses_studio  # noqa: E402

from .client_import import saved_choice  # noqa: E402
from .inputs import EditInputs, read_edit_inputs  # noqa: E402

INTRO = ("1. Select the object and use Filters → MAGIC → Remember Object.\n"
         "2. Move, scale or transform the selection to where the object should go, then run this.\n"
         "Results arrive as new layers above the layer; nothing else changes.")
POLL_MS = 200
ESTIMATE_EVERY_S = 1.0
ESTIMATE_PATIENCE_S = 300.0  # stop asking once the server has had this long to measure


@dataclass
class DialogChoice:
    mode: str
    preset: str
    area: str
    seed: int


def _thumbnail_pixbuf(inputs: EditInputs):
    layer = inputs.layer
    width, height = layer.get_width(), layer.get_height()
    small_w, small_h = thumbnail.thumbnail_size(width, height)
    rect = Gegl.Rectangle.new(0, 0, small_w, small_h)
    rgba = bytes(layer.get_buffer().get(rect, small_w / width, "R'G'B'A u8", Gegl.AbyssPolicy.CLAMP))
    source = thumbnail.downsample_mask(inputs.source_mask, width, height, small_w, small_h)
    target = thumbnail.downsample_mask(inputs.target_mask, width, height, small_w, small_h)
    rgb = thumbnail.overlay(rgba, small_w, small_h, source, target)
    return GdkPixbuf.Pixbuf.new_from_bytes(GLib.Bytes.new(rgb), GdkPixbuf.Colorspace.RGB, False, 8,
                                           small_w, small_h, small_w * 3)


def _fix_this_first(problem: str) -> str:
    """Markup for a problem that holds Run back."""
    return "<b>Fix this first:</b> " + GLib.markup_escape_text(problem)


class ServerQuestions(threading.Thread):
    """Connects (starting the server if needed), then asks for estimates for
    each area until every preset is measured. Posts (kind, value) to `answers`.
    `plan_regions(hello)` -> {area: (width, height)} by the server's own
    region rule (plain data only: no GIMP call may run on this thread)."""

    def __init__(self, import_client, settings, runtime_file: str, plan_regions: Optional[Callable]):
        super().__init__(name="magic-dialog-server", daemon=True)
        self.import_client, self.settings, self.runtime_file = import_client, settings, runtime_file
        self.plan_regions = plan_regions
        self.regions = None
        self.answers: "queue.SimpleQueue" = queue.SimpleQueue()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            client_module = self.import_client(self.settings)
            choice = saved_choice()
            if uses_studio(choice, self.runtime_file):
                self.answers.put(("studio", choice.address))
                client = connect_studio(client_module, choice)
            else:
                try:
                    client = client_module.MagicClient.connect(
                        runtime_file=self.runtime_file or self.settings.runtime_file, timeout=CONNECT_TIMEOUT_S)
                except client_module.ServerUnavailable:
                    self.answers.put(("starting", None))
                    client = connect(client_module, self.settings, self.runtime_file)
        except BaseException as exc:  # noqa: BLE001 - shown in the dialog, which holds Run back
            self.answers.put(("failed", messages.describe_failure(exc)))
            return
        try:
            self.answers.put(("running", client.info))
            if self.plan_regions is not None:
                try:
                    self.regions = self.plan_regions(client.info)
                    self.answers.put(("regions", self.regions))
                except messages.UserError as exc:  # this server's rule leaves too small an area
                    self.answers.put(("failed", str(exc)))
                    return
            deadline = time.monotonic() + ESTIMATE_PATIENCE_S
            while self.regions is not None and not self.stop.is_set():
                by_size = {}  # the tight area of a small edit may be the usual one: ask once
                for size in self.regions.values():
                    if size not in by_size:
                        by_size[size] = client.estimate(*size)
                replies = {area: by_size[size] for area, size in self.regions.items()}
                self.answers.put(("estimates", replies))
                if not any(reply.get("measuring") for reply in replies.values()):
                    break
                if time.monotonic() > deadline:
                    self.answers.put(("no_estimate", "the server is still measuring the presets"))
                    break
                self.stop.wait(ESTIMATE_EVERY_S)
        except BaseException as exc:  # noqa: BLE001 - an old server without `estimate`, or it went away
            self.answers.put(("no_estimate", messages.describe_failure(exc).split("\n\n")[0]))
        finally:
            client.close()


class MagicDialog:
    def __init__(self, image, drawables, config, settings, import_client):
        self.config = config
        self.problem = None
        self.inputs = None
        self.regions = {}
        plan_regions = None
        try:
            self.inputs = inputs = read_edit_inputs(image, drawables, config.get_property("source-mask"),
                                                    config.get_property("target-mask"))
            name, width, height = inputs.layer.get_name(), inputs.width, inputs.height

            def plan_regions(hello=None):
                rule = region_rule_from_hello(hello) if hello is not None else \
                    (CONTEXT_MARGIN, MIN_CONTEXT, MIN_IMAGE_SIDE)
                regions = {}
                for area in choices.AREAS:
                    crop = plan_crop(name, width, height, inputs.source_mask, inputs.target_mask, inputs.boxes,
                                     *choices.area_rule(rule, area)).crop
                    regions[area] = (crop.width, crop.height)
                return regions

            self.regions = plan_regions()  # the defaults, until the server says its own rule
        except messages.UserError as exc:
            self.problem = str(exc)
        self.presets = list(choices.DIALOG_PRESETS) + (["tiny"] if settings.test_presets else [])
        self.estimates = {}  # area -> the server's estimate reply
        self.studio = ""  # the studio server's address, once the server thread says it uses one
        self._build()
        self.server = ServerQuestions(import_client, settings, (config.get_property("server") or "").strip(),
                                      plan_regions)
        self.server.start()
        self._timer = GLib.timeout_add(POLL_MS, self._poll)

    # --- layout ----------------------------------------------------------
    def _label(self, text: str = "", markup: bool = False) -> "Gtk.Label":
        label = Gtk.Label(xalign=0.0)
        label.set_line_wrap(True)
        label.set_max_width_chars(56)
        if markup:
            label.set_markup(text)
        else:
            label.set_text(text)
        return label

    def _build(self) -> None:
        dialog = GimpUi.Dialog(title="MAGIC", role="magic")
        dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.ok = dialog.add_button("_Run", Gtk.ResponseType.OK)
        dialog.set_default_response(Gtk.ResponseType.OK)
        outer = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=10)
        outer.set_border_width(12)
        dialog.get_content_area().add(outer)
        outer.pack_start(self._label(INTRO), False, False, 0)

        row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
        outer.pack_start(row, False, False, 0)
        picture = Gtk.Frame()
        picture.set_size_request(thumbnail.THUMBNAIL_SIDE + 8, thumbnail.THUMBNAIL_SIDE + 8)
        self.picture = Gtk.Image()
        picture.add(self.picture)
        row.pack_start(picture, False, False, 0)
        facts = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        row.pack_start(facts, True, True, 0)
        if self.inputs is not None:
            inputs = self.inputs
            facts.pack_start(self._label(preflight.mask_line(
                "Object (red)", inputs.source_label, count_inside(inputs.source_mask))), False, False, 0)
            facts.pack_start(self._label(preflight.mask_line(
                "Target (blue outline)", inputs.target_label, count_inside(inputs.target_mask))), False, False, 0)
            self.region_label = self._label()
            facts.pack_start(self.region_label, False, False, 0)
            self.picture.set_from_pixbuf(_thumbnail_pixbuf(inputs))
        if self.problem:
            facts.pack_start(self._label(_fix_this_first(self.problem), markup=True), False, False, 0)
        self.server_label = self._label(preflight.server_line("connecting"))
        facts.pack_start(self.server_label, False, False, 0)
        self.weights_label = self._label()
        self.weights_label.get_style_context().add_class("warning")
        facts.pack_start(self.weights_label, False, False, 0)

        self.hint_label = self._label()  # packed under the choices; filled with the presets
        grid = Gtk.Grid(column_spacing=8, row_spacing=6)
        outer.pack_start(grid, False, False, 0)
        self.mode = Gtk.ComboBoxText()
        for name, option in choices.MODES.items():
            self.mode.append(name, option.label)
        self.mode.set_active_id(self.config.get_property("mode") or choices.DEFAULT_MODE)
        self.area = Gtk.ComboBoxText()
        for name, option in choices.AREAS.items():
            self.area.append(name, option.label)
        self.area.set_active_id(self.config.get_property("area") or choices.DEFAULT_AREA)
        self.preset = Gtk.ComboBoxText()
        self._show_area()
        self.area.connect("changed", lambda _combo: self._show_area())
        self.seed = Gtk.SpinButton.new_with_range(SEED_RANDOM, SEED_MAX, 1)
        self.seed.set_value(self.config.get_property("seed"))
        self.seed.set_tooltip_text("-1: a new seed each run (it is written in the layer names, so any result can be "
                                   "made again)")
        for index, (text, widget) in enumerate((("_Mode", self.mode), ("_Preset", self.preset),
                                                ("_Area", self.area), ("S_eed (-1: random)", self.seed))):
            label = Gtk.Label.new_with_mnemonic(text)
            label.set_xalign(0.0)
            label.set_mnemonic_widget(widget)
            grid.attach(label, 0, index, 1, 1)
            widget.set_hexpand(True)
            grid.attach(widget, 1, index, 1, 1)
        self.seed.set_activates_default(True)
        outer.pack_start(self.hint_label, False, False, 0)
        self.preset.connect("changed", lambda _combo: self._show_hint())
        self.ok.set_sensitive(self.problem is None)
        dialog.show_all()
        if self.problem is None:
            self.ok.grab_focus()  # Return runs, as in GIMP's own filter dialogs
        self.dialog = dialog

    def _show_area(self) -> None:
        """The chosen area's size and, per preset, its time."""
        area = self.area.get_active_id() or choices.DEFAULT_AREA
        if self.inputs is not None and area in self.regions:
            self.region_label.set_text(preflight.region_line(*self.regions[area], self.inputs.layer.get_name()))
        self._fill_presets()

    def _fill_presets(self) -> None:
        current = self.preset.get_active_id() or self.config.get_property("preset")
        if current not in self.presets:
            current = choices.DEFAULT_PRESET
        reply = self.estimates.get(self.area.get_active_id() or choices.DEFAULT_AREA)
        measuring = bool((reply or {}).get("measuring"))
        self.preset.remove_all()
        for name in self.presets:
            self.preset.append(name, preflight.preset_label(name, preflight.preset_estimate(reply, name), measuring))
        self.preset.set_active_id(current)
        self._show_hint()

    def _show_hint(self) -> None:
        self.hint_label.set_text(preflight.area_hint(self.area.get_active_id() or choices.DEFAULT_AREA,
                                                     self.preset.get_active_id() or "", self.estimates, self.regions))

    # --- the server's answers --------------------------------------------
    def _poll(self) -> bool:
        changed_estimates = False
        while True:
            try:
                kind, value = self.server.answers.get_nowait()
            except queue.Empty:
                break
            if kind == "studio":
                self.studio = value
                self.server_label.set_text(preflight.server_line("connecting", studio=value))
            elif kind == "starting":
                self.server_label.set_text(preflight.server_line("starting"))
            elif kind == "failed":  # a run could only fail the same way: say all of it, and hold Run back
                self.server_label.set_markup(_fix_this_first(preflight.server_line("failed", detail=value)))
                self.ok.set_sensitive(False)
            elif kind == "running":
                self.server_label.set_text(preflight.server_line("running", value, studio=self.studio))
                warning = messages.weights_warning(value)
                self.weights_label.set_text(warning.split("\n\n")[0] if warning else "")
            elif kind == "regions" and value != self.regions:
                self.regions = value
                changed_estimates = True
            elif kind == "estimates":
                self.estimates = value
                changed_estimates = True
            elif kind == "no_estimate":  # an older server, or it is taking too long: say so, stop "measuring…"
                self.estimates = {area: dict(reply, measuring=False) for area, reply in self.estimates.items()}
                self.server_label.set_text(f"{self.server_label.get_text()} No time estimates: {value}.")
                changed_estimates = True
        if changed_estimates and not self.preset.get_property("popup-shown"):
            self._show_area()
        return True  # keep polling while the dialog is open

    # --- running ---------------------------------------------------------
    def run(self) -> Optional[DialogChoice]:
        try:
            if self.dialog.run() != Gtk.ResponseType.OK:
                return None
            return DialogChoice(self.mode.get_active_id(), self.preset.get_active_id(), self.area.get_active_id(),
                                int(self.seed.get_value()))
        finally:
            GLib.source_remove(self._timer)
            self.server.stop.set()
            self.dialog.destroy()


def ask_options(procedure, config, proc_name: str, image, drawables, settings, import_client) -> bool:
    """True when the designer pressed Run; the choices are then in `config`
    (GIMP remembers them for the next run)."""
    GimpUi.init(proc_name)
    choice = MagicDialog(image, drawables, config, settings, import_client).run()
    if choice is None:
        return False
    config.set_property("mode", choice.mode)
    config.set_property("preset", choice.preset)
    config.set_property("area", choice.area)
    config.set_property("seed", choice.seed)
    return True
