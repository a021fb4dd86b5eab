"""One run of Filters → MAGIC, from the procedure's arguments to the new
layer group. Every failure becomes a message that says what to do."""

from __future__ import annotations

import os
import time

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

from magic_gimp_core import messages  # noqa: E402
from magic_gimp_core.background import Abandoned, call_in_background  # noqa: E402
from magic_gimp_core.choices import area_rule, job_params  # noqa: E402
from magic_gimp_core.naming import resolve_seed  # noqa: E402
from magic_gimp_core.notices import NOTICES_FILE, first_time, server_start_key  # noqa: E402
from magic_gimp_core.plan import plan_crop  # noqa: E402
from magic_gimp_core.progress import JobEstimate, ProgressView  # noqa: E402
from magic_common.phases import STARTING  # noqa: E402
from magic_common.region import region_rule_from_hello  # noqa: E402
from magic_gimp_core.server_job import JobRequest, JobRunner, connect  # noqa: E402
from magic_gimp_core.settings import PluginSettings  # noqa: E402

from . import pixels  # noqa: E402
from .arguments import Options, read_options  # noqa: E402
from .client_import import import_client, saved_choice  # noqa: E402
from .inputs import read_edit_inputs  # noqa: E402
from .progress import DialogProgress, GimpProgress  # noqa: E402
from .results import Placement, insert_results  # noqa: E402

CANCEL_GRACE_S = 10.0  # after Cancel, wait this long for the server to confirm, then stop waiting


class Cancelled(Exception):
    pass


class MagicRun:
    def __init__(self, image, drawables, options: Options, settings: PluginSettings, interactive: bool):
        self.image, self.drawables, self.options = image, drawables, options
        self.settings, self.interactive = settings, interactive
        self.progress = None
        self.client = None
        self.view = ProgressView(JobEstimate(None, time.monotonic()))
        self.shown = None  # (text, fraction) last shown

    def tick(self) -> None:
        self.progress.tick()

    def cancelled(self) -> bool:
        return self.progress.cancel_requested

    def execute(self):
        client_module = import_client(self.settings)
        choice = saved_choice()
        image, options = self.image, self.options
        inputs = read_edit_inputs(image, self.drawables, options.source_mask, options.target_mask)
        layer, width, height = inputs.layer, inputs.width, inputs.height
        seed = resolve_seed(options.seed)
        params = job_params(options.mode, options.preset, options.variants or self.settings.variants, seed)

        hint = f"Results arrive as new layers above '{layer.get_name()}'; nothing else in the image changes."
        self.progress = (DialogProgress("MAGIC progress", "MAGIC: connecting to the server…", hint)
                         if self.interactive else GimpProgress("MAGIC: connecting to the server…"))
        try:
            self.client = call_in_background(
                lambda: connect(client_module, self.settings, options.server, choice), self.tick, self.cancelled)
            hello = self.client.info
            self._check_offer(hello, params)
            self._warn_about(hello)
            plan = plan_crop(layer.get_name(), width, height, inputs.source_mask, inputs.target_mask, inputs.boxes,
                             *area_rule(region_rule_from_hello(hello), options.area))
            crop = plan.crop
            self.view = ProgressView(JobEstimate(self._measured_seconds(crop.width, crop.height, params["preset"]),
                                                 time.monotonic()))
            request = JobRequest(crop.width, crop.height, pixels.read_rgba(layer, crop), plan.source_mask,
                                 plan.target_mask, params)
            self.progress.show(f"MAGIC: sending {crop.width}x{crop.height} px", None)
            result = self._run_job(JobRunner(self.client), request)
        except Abandoned:
            # The worker thread may still be using the client, and a ZeroMQ
            # socket must not be closed under it; the process ends soon.
            self.client = None
            raise Cancelled() from None
        finally:
            self.progress.close()
            if self.client is not None:
                self.client.close()
        if (result.width, result.height) != (crop.width, crop.height) or not result.layers:
            raise messages.UserError(f"The MAGIC server sent {len(result.layers)} result(s) of {result.width}x"
                                     f"{result.height} px for a {crop.width}x{crop.height} px request; nothing was "
                                     f"added. Update the server and the plug-in together.")
        x, y = pixels.layer_offsets(layer)
        place = Placement(options.mode, options.preset, seed, x + crop.left, y + crop.top, crop.width, crop.height)
        return insert_results(image, layer, place, result.layers, result.edit_mask)

    def _measured_seconds(self, width: int, height: int, preset: str):
        """The server's measured time for this job, or None (an older server, or not measured yet)."""
        try:
            reply = call_in_background(lambda: self.client.estimate(width, height), self.tick, self.cancelled)
        except Abandoned:
            raise
        except Exception:  # noqa: BLE001 - the job runs without a countdown
            return None
        return ((reply.get("estimates") or {}).get(preset) or {}).get("seconds")

    def _check_offer(self, hello: dict, params: dict) -> None:
        modes, presets = hello.get("modes"), hello.get("presets")  # presets: name -> summary
        preset_names = list(presets or [])
        if modes and params["mode"] not in modes:
            raise messages.UserError(f"The MAGIC server does not offer mode '{params['mode']}' (it offers "
                                     f"{', '.join(modes)}). Update the server and the plug-in together.")
        if preset_names and params["preset"] not in preset_names:
            raise messages.UserError(f"The MAGIC server does not offer preset '{params['preset']}' (it offers "
                                     f"{', '.join(map(str, preset_names))}). Update the server and the plug-in "
                                     f"together.")

    def _warn_about(self, hello: dict) -> None:
        """The untrained-weights warning: in the progress window, once per
        server start (batch runs: on stderr, every time)."""
        warning = messages.weights_warning(hello)
        if warning is None:
            return
        if not self.interactive:
            self.progress.note(warning, warning=True)
            return
        if first_time(os.path.join(Gimp.directory(), NOTICES_FILE), server_start_key(hello)):
            self.progress.note(warning, warning=True)

    def _run_job(self, runner: JobRunner, request: JobRequest):
        cancel_sent_at = None

        def tick():
            nonlocal cancel_sent_at
            events = runner.drain_events()
            for event in events:
                now = time.monotonic()
                if event.get("type") == "progress" and event.get("phase") == STARTING:
                    self.view.restart(now)  # the measured time counts from the engine's start, not the upload
                shown = self.view.on_event(event, now)
                if shown is not None and cancel_sent_at is None:
                    self.progress.show(*shown)
                    self.shown = shown
                preview = event.get("preview")
                if preview:
                    self.progress.preview(preview["width"], preview["height"], preview["rgb"])
            if not events and cancel_sent_at is None:  # between events the time left still counts down
                shown = self.view.refresh(time.monotonic())
                if shown is not None and shown != self.shown:  # GIMP is asked only when something moved
                    self.progress.show(*shown)
                    self.shown = shown
            if self.progress.cancel_requested and cancel_sent_at is None:
                runner.cancel()
                cancel_sent_at = time.monotonic()
            self.progress.tick()

        def give_up() -> bool:
            return cancel_sent_at is not None and time.monotonic() - cancel_sent_at > CANCEL_GRACE_S

        return call_in_background(lambda: runner.run(request), tick, give_up)


def run_procedure(procedure, run_mode, image, drawables, config, settings: PluginSettings, proc_name: str):
    """The procedure's run function; never raises."""
    interactive = run_mode == Gimp.RunMode.INTERACTIVE
    try:
        if interactive:
            from .dialog import ask_options

            if not ask_options(procedure, config, proc_name, image, drawables, settings, import_client):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        group = MagicRun(image, drawables, read_options(config), settings, interactive).execute()
    except Cancelled:
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    except BaseException as exc:  # noqa: BLE001 - GIMP would show nothing useful for an escaped exception
        if getattr(exc, "code", None) == "cancelled":  # the client library's JobCancelled
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        message = messages.describe_failure(exc)
        if not isinstance(exc, messages.UserError):
            import traceback

            traceback.print_exc()  # for a bug report; the user gets the message
        # GIMP shows this message itself when a person ran the filter.
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(message))
    values = procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())
    values.remove(1)
    values.insert(1, GObject.Value(Gimp.GroupLayer, group))
    return values
