"""Reaching the MAGIC server (starting it when needed) and running one job,
with the client library passed in: this module never imports pyzmq, so the
plug-in can still explain a missing pyzmq, and tests can use a real client
against a real server."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Optional

from . import messages
from .server_choice import ServerChoice
from .settings import PluginSettings

CONNECT_TIMEOUT_S = 5.0
START_TIMEOUT_S = 180.0  # a cold start loads torch and the classifier
CANCEL_IF_SILENT_S = 15.0  # GIMP SIGKILLs a plug-in whose progress bar is cancelled; the server then cancels


def uses_studio(choice: Optional[ServerChoice], runtime_file: Optional[str]) -> bool:
    """Whether a run goes to the studio server `choice` names: a script's runtime file
    names this computer's server, and wins."""
    return choice is not None and choice.studio and not runtime_file


def connect_studio(client_module, choice: ServerChoice):
    """A MagicClient connected to the studio server `choice` names; UserError with what to do."""
    try:
        return client_module.MagicClient.connect_remote(choice.address, choice.server_key, timeout=CONNECT_TIMEOUT_S)
    except client_module.MagicClientError as exc:
        raise messages.UserError(messages.studio_unreachable(choice.address, str(exc))) from None


def connect(client_module, settings: PluginSettings, runtime_file: Optional[str] = None,
            choice: Optional[ServerChoice] = None):
    """A connected MagicClient: to the studio server `choice` names, else (or when
    a script names a `runtime_file`) to this computer's, which is started with the
    installer's server_command when none is running. Raises UserError with what to
    do, or the client library's ServerUnavailable (described by
    messages.describe_failure)."""
    if uses_studio(choice, runtime_file):
        return connect_studio(client_module, choice)
    client_cls = client_module.MagicClient
    runtime_file = runtime_file or settings.runtime_file
    if not settings.server_command:
        try:
            return client_cls.connect(runtime_file=runtime_file, timeout=CONNECT_TIMEOUT_S)
        except client_module.ServerUnavailable as exc:
            if exc.code == "bad_version":  # starting one would not help; describe_failure says what to do
                raise
            raise messages.UserError(messages.no_server_and_no_command(
                str(exc), settings.problem or f"{settings.config_path} has no \"server_command\"")) from None
    try:
        return client_cls.connect_or_start(settings.server_command, runtime_file=runtime_file,
                                           start_timeout=START_TIMEOUT_S, timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:  # the command's program does not exist or cannot be run
        raise messages.UserError(messages.server_not_installed(settings.server_command, exc,
                                                               settings.config_path)) from None


@dataclass
class JobRequest:
    width: int
    height: int
    image_rgba: bytes
    source_mask: bytes
    target_mask: bytes
    params: dict


class JobRunner:
    """Submit, follow and fetch one job on a worker thread (see
    background.call_in_background). Events go to `events` for the main
    thread; `cancel` asks the server to stop the job."""

    def __init__(self, client):
        self.client = client
        self.events: "queue.SimpleQueue[dict]" = queue.SimpleQueue()
        self.cancel_requested = threading.Event()
        self.job_id: Optional[str] = None

    def run(self, request: JobRequest):
        """-> the client's JobResult; raises JobFailed, JobCancelled,
        ServerUnavailable or ServerError."""
        self.job_id = self.client.submit(request.width, request.height, image_rgba=request.image_rgba,
                                         source_mask=request.source_mask, target_mask=request.target_mask,
                                         params=request.params, cancel_if_silent_s=CANCEL_IF_SILENT_S)
        return self.client.wait(self.job_id, on_event=self.events.put, should_cancel=self.cancel_requested.is_set)

    def cancel(self) -> None:
        self.cancel_requested.set()

    def drain_events(self) -> list:
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out
