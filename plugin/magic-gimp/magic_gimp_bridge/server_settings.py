"""Filters → MAGIC → Server Settings: this computer's MAGIC server, or a studio server.

The dialog shows this computer's public key (made on first use) with a Copy
button, for the studio's admin to allow; a studio server needs its address
and its own key. Test Connection asks the server on a worker thread and says
what it runs on, or what is wrong, before anything is saved. Scripts set the
same choice with the procedure's arguments (non-interactive), and get this
computer's key back.
"""

from __future__ import annotations

import queue
import threading

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

from magic_gimp_core import messages, preflight  # noqa: E402
from magic_gimp_core.server_choice import (KINDS, STUDIO, THIS_COMPUTER, ServerChoice, save_choice,  # noqa: E402
                                           studio_choice)
from magic_gimp_core.server_job import connect_studio  # noqa: E402

from .client_import import choice_folder, import_client, saved_choice  # noqa: E402

RW = GObject.ParamFlags.READWRITE
POLL_MS = 200


def add_server_arguments(procedure) -> None:
    choice = Gimp.Choice.new()
    for i, (name, (label, help_text)) in enumerate(KINDS.items()):
        choice.add(name, i, label, help_text)
    procedure.add_choice_argument("server-kind", "_Server", "Which MAGIC server runs the jobs", choice,
                                  THIS_COMPUTER, RW)
    procedure.add_string_argument("address", "_Address", "A studio server's address, tcp://HOST:PORT", "", RW)
    procedure.add_string_argument("server-key", "Server _key", "A studio server's public key (it prints it when it "
                                  "starts)", "", RW)
    procedure.add_string_return_value("client-key", "This computer's key", "This computer's public key, for the "
                                      "studio server's --allow-keys file", "", RW)


def _chosen(client_module, kind: str, address: str, server_key: str) -> ServerChoice:
    if kind == STUDIO:
        return studio_choice(address, server_key, client_module.curve.check_public_key)
    return ServerChoice()


def run_server_settings(procedure, run_mode, config, settings, proc_name: str):
    """The procedure's run function; never raises."""
    try:
        client_module = import_client(settings)
        client_key = client_module.curve.client_keys().public_text
        if run_mode == Gimp.RunMode.INTERACTIVE:
            if not ServerSettingsDialog(proc_name, client_module, client_key).run():
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        elif run_mode == Gimp.RunMode.NONINTERACTIVE:  # a script: its arguments are the choice
            choice = _chosen(client_module, config.get_property("server-kind"),
                             config.get_property("address") or "", config.get_property("server-key") or "")
            save_choice(choice_folder(), choice)
        # Filters → Repeat (last values, which the dialog does not store) keeps the saved choice.
    except BaseException as exc:  # noqa: BLE001 - GIMP would show nothing useful for an escaped exception
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR,
                                           GLib.Error(messages.describe_failure(exc)))
    values = procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())
    values.remove(1)
    values.insert(1, GObject.Value(GObject.TYPE_STRING, client_key))
    return values


class ServerSettingsDialog:
    def __init__(self, proc_name: str, client_module, client_key: str):
        gi.require_version("GimpUi", "3.0")
        gi.require_version("Gtk", "3.0")
        gi.require_version("Gdk", "3.0")
        from gi.repository import Gdk, GimpUi, Gtk

        self.Gtk, self.Gdk = Gtk, Gdk
        GimpUi.init(proc_name)
        self.client_module, self.client_key = client_module, client_key
        self.answers: "queue.SimpleQueue" = queue.SimpleQueue()
        current = saved_choice()

        dialog = GimpUi.Dialog(title="MAGIC Server", role="magic-server")
        dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.test = dialog.add_button("Test Co_nnection", Gtk.ResponseType.APPLY)
        dialog.add_button("_Save", Gtk.ResponseType.OK)
        dialog.set_default_response(Gtk.ResponseType.OK)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8)
        box.set_border_width(12)
        dialog.get_content_area().add(box)

        self.local = Gtk.RadioButton.new_with_mnemonic(None, "_This computer: its MAGIC server starts when needed")
        self.studio = Gtk.RadioButton.new_with_mnemonic_from_widget(
            self.local, "A studio ser_ver: MAGIC runs on another computer, usually one with a GPU")
        box.pack_start(self.local, False, False, 0)
        box.pack_start(self.studio, False, False, 0)
        grid = Gtk.Grid(column_spacing=8, row_spacing=6, margin_start=24)
        self.address = Gtk.Entry(text=current.address, placeholder_text="tcp://gpu-box:5555", hexpand=True)
        self.server_key = Gtk.Entry(text=current.server_key, placeholder_text="printed by the server when it starts",
                                    width_chars=44)
        for row, (text, entry) in enumerate((("_Address", self.address), ("Server _key", self.server_key))):
            label = Gtk.Label.new_with_mnemonic(text)
            label.set_xalign(0.0)
            label.set_mnemonic_widget(entry)
            grid.attach(label, 0, row, 1, 1)
            grid.attach(entry, 1, row, 1, 1)
        box.pack_start(grid, False, False, 0)

        box.pack_start(self._label("This computer's key. A studio server admits only the computers its admin "
                                   "allowed: send this key to the admin."), False, False, 4)
        key_row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
        key = Gtk.Label(label=client_key, selectable=True, xalign=0.0)
        key.get_style_context().add_class("monospace")
        copy = Gtk.Button.new_with_mnemonic("Co_py")
        copy.connect("clicked", lambda _button: self._copy_key())
        key_row.pack_start(key, True, True, 0)
        key_row.pack_start(copy, False, False, 0)
        box.pack_start(key_row, False, False, 0)
        self.status = self._label("")
        box.pack_start(self.status, False, False, 4)

        (self.studio if current.studio else self.local).set_active(True)
        self.local.connect("toggled", lambda _button: self._show_kind())
        self._show_kind()
        dialog.show_all()
        self.dialog = dialog
        self._timer = GLib.timeout_add(POLL_MS, self._poll)

    def _label(self, text: str):
        label = self.Gtk.Label(label=text, xalign=0.0)
        label.set_line_wrap(True)
        label.set_max_width_chars(60)
        return label

    def _show_kind(self) -> None:
        for entry in (self.address, self.server_key):
            entry.set_sensitive(self.studio.get_active())

    def _copy_key(self) -> None:
        self.Gtk.Clipboard.get(self.Gdk.SELECTION_CLIPBOARD).set_text(self.client_key, -1)
        self.status.set_text("This computer's key is on the clipboard.")

    def _choice(self) -> ServerChoice:
        kind = STUDIO if self.studio.get_active() else THIS_COMPUTER
        return _chosen(self.client_module, kind, self.address.get_text(), self.server_key.get_text())

    def _start_test(self, choice: ServerChoice) -> None:
        def ask():
            try:
                client = connect_studio(self.client_module, choice)
            except BaseException as exc:  # noqa: BLE001 - shown in the dialog
                # Its first paragraph: the second says to choose This computer, which is right here.
                self.answers.put(("failed", messages.describe_failure(exc).split("\n\n")[0]))
                return
            try:
                self.answers.put(("running", client.info))
            finally:
                client.close()

        self.test.set_sensitive(False)
        self.status.set_text(preflight.server_line("connecting", studio=choice.address))
        threading.Thread(target=ask, name="magic-server-test", daemon=True).start()

    def _poll(self) -> bool:
        try:
            kind, value = self.answers.get_nowait()
        except queue.Empty:
            return True
        self.test.set_sensitive(True)
        studio = self.address.get_text().strip()
        self.status.set_text(preflight.server_line("running", value, studio=studio) if kind == "running" else value)
        return True

    def run(self) -> bool:
        """True when the designer saved a choice."""
        Gtk = self.Gtk
        try:
            while True:
                response = self.dialog.run()
                if response not in (Gtk.ResponseType.OK, Gtk.ResponseType.APPLY):
                    return False
                try:
                    choice = self._choice()
                except messages.UserError as exc:  # said in the dialog, which stays open
                    self.status.set_text(str(exc))
                    continue
                if response == Gtk.ResponseType.APPLY:
                    if choice.studio:
                        self._start_test(choice)
                    else:
                        self.status.set_text("This computer's server is started by MAGIC when it is needed.")
                    continue
                save_choice(choice_folder(), choice)
                return True
        finally:
            GLib.source_remove(self._timer)
            self.dialog.destroy()
