"""MagicClient: talk to the local MAGIC server (standard library + pyzmq).

    client = MagicClient.connect_or_start([python, "-m", "magic_server"])
    job = client.submit(width, height, image_rgba=..., source_mask=..., target_mask=...,
                        params={"mode": "position", "preset": "preview"})
    result = client.wait(job, on_event=print)      # or client.poll(job) from a GUI timer
    result.layers[0]                                # RGBA bytes, width*height*4

One DEALER socket per client, with a routing id that survives reconnects
(the server uses ROUTER_HANDOVER), so a client that reconnects keeps
receiving its jobs' events. A client that lost them anyway (server
restarted, process restarted) asks for `status`/`watch` and `result`.
Not for concurrent use from several threads (calls are serialised by a lock).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq

from magic_common.region import Box, paste_bytes

from . import curve, launcher, protocol
from .errors import (JobCancelled, JobFailed, MagicClientError, ProtocolError, ServerError, ServerUnavailable,
                     WaitTimeout)
from .paths import default_log_file, default_runtime_file
from .runtime import RuntimeInfo, pid_alive, read_runtime_file
from .transfer import Transfer, image_sha256, transfer_for

EXIT_ALREADY_RUNNING = 3  # magic_server's exit code when another server won the race to start
EXIT_WEIGHTS_MISSING = 5  # ... when its classifier's weights file is not there
HELD_IMAGES = 8  # submitted images kept to put edit-box results into (the latest jobs')
MAX_EVENTS_PER_JOB = 1000
BULK_TIMEOUT_S = 120.0  # submit and result move whole layers
PID_CHECK_S = 1.0  # while waiting for a reply, check this often that the server's process still exists


@dataclass
class JobResult:
    job_id: str
    width: int
    height: int
    layers: list  # RGBA bytes (width*height*4) per variant: the whole image with the edit blended in
    edit_mask: bytes  # width*height bytes: 255 where the layers differ from the input, 0 where they do not
    report: dict = field(default_factory=dict)  # the engine's report (timings, config, notes)
    params: dict = field(default_factory=dict)  # the submit params as the server checked them
    placement: dict | None = None  # the submit's placement: where these layers go in the whole photo


def _event_from_message(message: protocol.Message) -> dict:
    event = {k: v for k, v in message.header.items() if k not in ("v", "buffers")}
    for spec, data in message.buffers:
        if spec.name == "preview":
            event["preview"] = {"width": spec.width, "height": spec.height, "rgb": bytes(data)}
    return event


def _pasted(whole, width: int, channels: int, box: Box, part) -> bytearray:
    out = bytearray(whole)
    paste_bytes(out, width, channels, box, part)
    return out


class MagicClient:
    def __init__(self, runtime: RuntimeInfo, timeout: float = 5.0, heartbeat_timeout: float | None = None):
        self.timeout = timeout
        self.heartbeat_timeout = heartbeat_timeout
        self.info: dict = {}  # the server's hello reply
        self.transfer = Transfer()  # set from hello: compressed pixels and kept uploads for a distant server
        self.started_process = None  # set by connect_or_start when it started the server
        self._runtime = runtime
        self._context = zmq.Context.instance()
        self._routing_id = b"magic-client-" + secrets.token_hex(8).encode()
        self._socket = None
        self._ids = itertools.count(1)
        self._replies: dict = {}
        self._awaited: set = set()
        self._events: dict = {}  # job id -> [event dict]
        self._active: set = set()  # jobs this client follows that have not ended
        self._last_heard = time.monotonic()
        self._last_job_news: dict = {}  # job id -> monotonic time of its last event
        self._last_keepalive = 0.0
        self._keepalive_s = 2.0
        self._lock = threading.RLock()
        # job id -> (the image it was given, its sha256): edit-box results are put into it, if it is unchanged
        self._submitted_images: dict = {}
        self._watch = None  # curve.HandshakeWatch of the socket
        self._open_socket()

    # --- connecting ------------------------------------------------------
    @classmethod
    def connect(cls, runtime_file=None, timeout: float = 5.0, heartbeat_timeout: float | None = None):
        """Connect to the running server named by the runtime file; raises
        ServerUnavailable with a message saying what is wrong."""
        path = Path(runtime_file) if runtime_file else default_runtime_file()
        runtime = read_runtime_file(path)
        if runtime.protocol != protocol.PROTOCOL_VERSION:
            raise ServerUnavailable(f"the server at {runtime.endpoint} speaks protocol {runtime.protocol}, this "
                                    f"client speaks {protocol.PROTOCOL_VERSION}; update the plug-in and the server "
                                    f"together", "bad_version")
        if not runtime.alive:
            raise ServerUnavailable(f"the MAGIC server (pid {runtime.pid}) is no longer running; its runtime file "
                                    f"{path} is stale. Start the server again.")
        return cls.connect_runtime(runtime, timeout, heartbeat_timeout)

    @classmethod
    def connect_remote(cls, endpoint: str, server_key: str | None, timeout: float = 10.0,
                       heartbeat_timeout: float | None = None):
        """Connect to a server on another machine (tcp://HOST:PORT) that runs with
        --curve, whose public key is `server_key`; this user's client key pair is made
        on first use (`curve.client_keys`). Without a server key the connection is not
        encrypted: only for a server on this computer. Raises ServerUnavailable with a
        message saying what is wrong (a key the server does not allow, a wrong server key)."""
        key = curve.check_public_key(server_key, "the server key").decode("ascii") if server_key else ""
        return cls.connect_runtime(RuntimeInfo.remote(endpoint, key, protocol.PROTOCOL_VERSION), timeout, heartbeat_timeout)

    @classmethod
    def connect_runtime(cls, runtime: RuntimeInfo, timeout: float = 5.0, heartbeat_timeout: float | None = None):
        """Connect to the server `runtime` names (a runtime file's, or RuntimeInfo.remote),
        once it has answered hello; the client is closed again if it does not."""
        client = cls(runtime, timeout, heartbeat_timeout)
        try:
            client.hello()
        except BaseException:
            client.close()
            raise
        return client

    @classmethod
    def connect_or_start(cls, server_command, runtime_file=None, start_timeout: float = 120.0,
                         timeout: float = 5.0, log_file=None, heartbeat_timeout: float | None = None):
        """Connect, or start `server_command` detached (it outlives this
        process) and wait until it answers. Its output goes to `log_file`
        (default: next to the runtime file)."""
        path = Path(runtime_file) if runtime_file else default_runtime_file()
        try:
            return cls.connect(path, timeout, heartbeat_timeout)
        except ServerUnavailable as exc:
            # A live server that does not answer, or speaks another protocol:
            # starting another would not help (it would refuse to start).
            if exc.code == "bad_version" or launcher.live_server(path):
                raise
        command = [str(part) for part in server_command]
        if not any(part == "--runtime-file" or part.startswith("--runtime-file=") for part in command):
            command += ["--runtime-file", str(path)]
        log_path = Path(log_file) if log_file else default_log_file(path)
        if not any(part == "--log-file" or part.startswith("--log-file=") for part in command):
            command += ["--log-file", str(log_path)]  # the server rotates it; our redirect only sees its first lines
        process = launcher.spawn_detached(command, log_path)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            try:
                client = cls.connect(path, timeout, heartbeat_timeout)
                client.started_process = process
                return client
            except ServerUnavailable:
                pass
            code = process.poll()
            if code is not None and code != EXIT_ALREADY_RUNNING:
                raise ServerUnavailable(f"the MAGIC server exited with code {code} while starting:\n"
                                        f"{launcher.tail(log_path)}\n(command: {' '.join(command)}; log: {log_path})",
                                        "weights_missing" if code == EXIT_WEIGHTS_MISSING else None)
            time.sleep(0.2)
        raise ServerUnavailable(f"the MAGIC server did not become ready within {start_timeout:g} s; see {log_path}")

    def _open_socket(self) -> None:
        sock = self._context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.ROUTING_ID, self._routing_id)
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
        if self._runtime.server_key:
            curve.secure_client(sock, curve.client_keys(), self._runtime.server_key.encode("ascii"))
        self._watch = curve.HandshakeWatch(sock, self._runtime.endpoint, encrypted=bool(self._runtime.server_key))
        try:
            sock.connect(self._runtime.endpoint)
        except zmq.ZMQError as exc:  # an address libzmq cannot parse or resolve
            self._watch.close()
            sock.close(linger=0)
            raise ServerUnavailable(f"cannot connect to {self._runtime.endpoint}: {exc}") from None
        self._socket = sock

    def _close_socket(self) -> None:
        self._watch.close()
        self._socket.close(linger=0)
        self._socket = None

    def _reconnect(self, runtime: RuntimeInfo) -> None:
        self._close_socket()
        self._runtime = runtime
        self._replies.clear()
        self._awaited.clear()
        self._open_socket()

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._close_socket()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def endpoint(self) -> str:
        return self._runtime.endpoint

    @property
    def server_pid(self) -> int:
        return self._runtime.pid

    # --- messages --------------------------------------------------------
    def _send(self, op: str, fields: dict, buffers=()) -> str:
        if self._socket is None:
            raise MagicClientError("this client is closed")
        request_id = str(next(self._ids))
        header = dict(fields, token=self._runtime.token, op=op, id=request_id)
        if self.transfer.encodings:
            header["encodings"] = self.transfer.encodings
        try:
            self._socket.send_multipart(protocol.encode(header, buffers, self.transfer.compress), zmq.NOBLOCK,
                                        copy=False)
        except zmq.Again:
            raise ServerUnavailable(f"cannot send to the MAGIC server at {self._runtime.endpoint} (not "
                                    f"connected)") from None
        return request_id

    def _pump(self, timeout_ms: int) -> None:
        """Receive whatever arrives within timeout_ms (then anything queued)."""
        if not self._socket.poll(max(0, int(timeout_ms))):
            return
        while True:
            try:
                frames = self._socket.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self._last_heard = time.monotonic()
            try:
                message = protocol.decode(frames, max_header_bytes=None)
            except ProtocolError:
                continue  # cannot happen with a v1 server; never let it break the caller
            self._dispatch(message)

    def _dispatch(self, message: protocol.Message) -> None:
        header = message.header
        kind = header.get("type")
        if kind in (protocol.REPLY, protocol.ERROR):
            if header.get("id") in self._awaited:
                self._replies[header["id"]] = message
            return
        if kind == "heartbeat":
            for job_id, state in (header.get("jobs") or {}).items():
                if job_id in self._active:
                    self._add_event(job_id, dict(state, type="heartbeat", job=job_id))
            return
        job_id = header.get("job")
        if isinstance(job_id, str):
            self._add_event(job_id, _event_from_message(message))
            if kind in protocol.FINAL_STATES:  # the final events are named after the final states
                self._active.discard(job_id)
                if kind != "done":  # no results to put into the image
                    self._submitted_images.pop(job_id, None)

    def _add_event(self, job_id: str, event: dict) -> None:
        events = self._events.setdefault(job_id, [])
        events.append(event)
        if len(events) > MAX_EVENTS_PER_JOB:
            del events[0]
        self._last_job_news[job_id] = time.monotonic()

    def _request(self, op: str, fields: dict | None = None, buffers=(), timeout: float | None = None,
                 retry: bool = True) -> protocol.Message:
        """Send and wait for the reply; raises ServerError on an error reply.
        On silence, re-reads the runtime file (the server may have restarted
        elsewhere) and, for requests safe to repeat, tries once more."""
        with self._lock:
            timeout = self.timeout if timeout is None else timeout
            request_id = self._send(op, fields or {}, buffers)
            self._awaited.add(request_id)
            deadline = time.monotonic() + timeout
            next_pid_check = time.monotonic() + PID_CHECK_S
            try:
                while request_id not in self._replies:
                    now = time.monotonic()
                    left = deadline - now
                    if left <= 0:
                        break
                    # A local server killed mid-request: say so now, not at the timeout.
                    if now >= next_pid_check and self._runtime.local:
                        next_pid_check = now + PID_CHECK_S
                        if not pid_alive(self._runtime.pid):
                            break
                    refused = self._watch.check()
                    if refused:  # the server will never see this request: say why now
                        raise ServerUnavailable(refused, "handshake")
                    self._pump(min(left, 0.2) * 1000)
            finally:
                self._awaited.discard(request_id)
            message = self._replies.pop(request_id, None)
            if message is None:
                waited = timeout - max(0.0, deadline - time.monotonic())
                asked = f" {op!r}" if self._runtime.local else ""  # a designer needs no op names for a studio server
                self._recover(f"did not answer{asked} within {timeout:g} s" if waited >= timeout else
                              f"its process ended while we waited {waited:.0f} s for its answer to {op!r}")
                if not retry:
                    raise ServerUnavailable(f"the MAGIC server did not answer {op!r} within {timeout:g} s")
                return self._request(op, fields, buffers, timeout, retry=False)
            header = message.header
            if header.get("type") == protocol.ERROR:
                if header.get("code") == "bad_token" and retry:
                    self._recover("refused our token")
                    return self._request(op, fields, buffers, timeout, retry=False)
                raise ServerError(header.get("message", "error"), header.get("code"), header)
            return message

    def _recover(self, problem: str) -> None:
        """The server was silent or refused us: follow the runtime file to a
        restarted server, or raise ServerUnavailable saying what happened."""
        old = self._runtime
        if not old.local:  # no runtime file to follow: libzmq keeps reconnecting by itself
            hint = "" if old.server_key else " (a server on another computer needs its server key)"
            raise ServerUnavailable(f"the MAGIC server at {old.endpoint} {problem}: check the address, that the "
                                    f"server runs and that its port is open{hint}")
        try:
            new = read_runtime_file(old.path)
        except ServerUnavailable:
            new = None
        if new is not None and new.alive:  # restarted elsewhere, or the same one: reconnect either way
            self._reconnect(new)
            return
        if not pid_alive(old.pid):
            raise ServerUnavailable(f"the MAGIC server (pid {old.pid}) has stopped ({problem}); start it again")
        if new is None:
            raise ServerUnavailable(f"the MAGIC server (pid {old.pid}) {problem} and its runtime file is gone; "
                                    f"it is probably shutting down")
        self._reconnect(new)  # same server, alive: a fresh connection costs little

    # --- operations ------------------------------------------------------
    def hello(self) -> dict:
        """Server description: protocol, server_version, devices, classifiers,
        presets, modes, defaults, region_rule, limits, heartbeat_s."""
        self.info = dict(self._request("hello").header)
        self.transfer = transfer_for(self.endpoint, self.info)
        heartbeat = float(self.info.get("heartbeat_s", 1.0))
        if self.heartbeat_timeout is None:
            self.heartbeat_timeout = max(10.0, 5 * heartbeat)
        return self.info

    def estimate(self, width: int, height: int) -> dict:
        """Seconds each preset would take for a width x height region on this
        server, measured on its device: {"device", "estimates": {preset:
        {"seconds" (None: still being measured), "basis" ("job"/"probe"),
        "variants"}}, "measuring", "queue"}. Ask again while "measuring" is
        true: the server measures the missing presets when it has no job."""
        return dict(self._request("estimate", {"width": int(width), "height": int(height)}).header)

    def ping(self, jobs=()) -> dict:
        return dict(self._request("ping", {"jobs": list(jobs)}).header)

    def submit(self, width: int, height: int, image_rgba, source_mask, target_mask, params: dict | None = None,
               cancel_if_silent_s: float | None = None, timeout: float = BULK_TIMEOUT_S,
               placement: dict | None = None) -> str:
        """Queue a job -> job id (at once; the job runs in the background).
        Buffers: bytes-like, row-major uint8; image RGBA (width*height*4),
        masks one byte per pixel (>= 128 means inside). cancel_if_silent_s:
        the server cancels the job if this client stays silent that long
        (poll/wait send keepalives); None keeps it running regardless.
        placement: when the image is a crop of a larger photo (cropping.crop_to_region),
        where it lies in it; the server keeps it and gives it back with the result."""
        max_pixels = (self.info.get("limits") or {}).get("max_pixels")
        if max_pixels and width * height > max_pixels:
            raise ServerError(f"the image is {width}x{height} px ({width * height / 1e6:.1f} MP); the server accepts "
                              f"at most {max_pixels / 1e6:g} MP. Crop to the area around the object or scale it "
                              f"down.", "too_large")
        fields = {"params": dict(params or {})}
        if placement is not None:
            fields["placement"] = dict(placement)
        if cancel_if_silent_s is not None:
            fields["cancel_if_silent_s"] = cancel_if_silent_s
        with self._lock:
            buffers = list(zip(protocol.job_input_specs(width, height), (image_rgba, source_mask, target_mask)))
            reply = None
            if self.transfer.reuse_uploads:
                fields["image_sha256"] = image_sha256(image_rgba)
                try:  # the photo of an earlier run: the masks alone
                    reply = self._request("submit", fields, buffers[1:], timeout=timeout, retry=False)
                except ServerError as exc:
                    if exc.code != "image_not_held":
                        raise
            if reply is None:
                reply = self._request("submit", fields, buffers, timeout=timeout, retry=False)
            job_id = reply.header["job"]
            if self.transfer.edit_box_only:
                self._submitted_images[job_id] = (image_rgba, fields.get("image_sha256") or image_sha256(image_rgba))
                while len(self._submitted_images) > HELD_IMAGES:  # a script's batch holds no more than this
                    self._submitted_images.pop(next(iter(self._submitted_images)))
            self._active.add(job_id)
            self._last_job_news[job_id] = time.monotonic()
            self._keep_alive_for(cancel_if_silent_s)
            return job_id

    def _keep_alive_for(self, cancel_if_silent_s) -> None:
        if cancel_if_silent_s:
            self._keepalive_s = min(self._keepalive_s, cancel_if_silent_s / 3)

    def status(self, job_id: str) -> dict:
        return self._request("status", {"job": job_id}).header["job"]

    def watch(self, job_id: str) -> dict:
        """Subscribe this client to a job's events (e.g. after a restart) -> its status."""
        with self._lock:
            summary = self._request("watch", {"job": job_id}).header["job"]
            if summary["state"] in protocol.FINAL_STATES:
                self._active.discard(job_id)
            else:
                self._active.add(job_id)
                self._keep_alive_for(summary.get("cancel_if_silent_s"))
            self._last_job_news[job_id] = time.monotonic()
            return summary

    def cancel(self, job_id: str) -> dict:
        return self._request("cancel", {"job": job_id}).header["job"]

    def jobs(self) -> list:
        return self._request("jobs").header["jobs"]

    def quarantined(self) -> list:
        """[{id, reason, moved_to}]: job folders the server's last start could not read."""
        return self._request("jobs").header.get("quarantined", [])

    def result(self, job_id: str, timeout: float = BULK_TIMEOUT_S) -> JobResult:
        """Fetch a finished job's layers; ServerError with code not_ready,
        job_failed, job_cancelled or unknown_job otherwise."""
        image, digest = self._submitted_images.get(job_id, (None, None))
        if image is not None and image_sha256(image) != digest:  # the caller reused its buffer meanwhile
            image = None
        fields = {"job": job_id, "edit_box_only": True} if image is not None else {"job": job_id}
        message = self._request("result", fields, timeout=timeout)
        header = message.header
        width, height, box = header["width"], header["height"], header.get("edit_box")
        layers = [message.buffer(f"composite_{i}") for i in range(header["variants"])]
        edit_mask = message.buffer("edit_mask")
        if box is not None:  # the edit's box alone: put it into the submitted image
            box = Box(box["left"], box["top"], box["left"] + box["width"], box["top"] + box["height"])
            layers = [_pasted(image, width, 4, box, layer) for layer in layers]
            edit_mask = _pasted(bytes(width * height), width, 1, box, edit_mask)
        self._submitted_images.pop(job_id, None)  # a later fetch gets the whole of each result
        return JobResult(job_id=job_id, width=width, height=height, layers=[bytes(layer) for layer in layers],
                         edit_mask=bytes(edit_mask), report=header.get("report") or {},
                         params=header.get("params") or {}, placement=header.get("placement"))

    def shutdown(self) -> None:
        self._request("shutdown", retry=False)

    # --- following a job -------------------------------------------------
    def poll(self, job_id: str, timeout_ms: int = 0) -> list:
        """Events for `job_id` received so far (accepted, progress, heartbeat,
        done, failed, cancelled), oldest first. Returns at once with
        timeout_ms=0, so it suits a GUI timer. Sends keepalives; raises
        ServerUnavailable if the server stopped."""
        with self._lock:
            self._pump(timeout_ms)
            now = time.monotonic()
            if self._active and now - self._last_keepalive >= self._keepalive_s:
                self._last_keepalive = now
                self._send("ping", {"jobs": sorted(self._active)})  # reply ignored
            if self._active and now - self._last_heard > (self.heartbeat_timeout or 10.0):
                self._recover(f"sent no heartbeat for {now - self._last_heard:.0f} s")
                self._last_heard = time.monotonic()
                for active in list(self._active):
                    self._resync(active)
            elif job_id in self._active and now - self._last_job_news.get(job_id, now) > 5.0:
                self._resync(job_id)  # heartbeats do not list it: we are no longer subscribed
            return self._events.pop(job_id, [])

    def _resync(self, job_id: str) -> None:
        """Re-subscribe; if the job ended meanwhile, report that as its event."""
        try:
            summary = self.watch(job_id)
        except ServerError as exc:
            if exc.code != "unknown_job":
                raise
            self._active.discard(job_id)
            self._add_event(job_id, {"type": "failed", "job": job_id, "code": "unknown_job", "message": str(exc)})
            return
        state = summary["state"]
        if state in protocol.FINAL_STATES:
            event = {"type": state, "job": job_id, "message": summary.get("message", ""),
                     "code": summary.get("code"), "from_status": True}
            self._add_event(job_id, event)

    def wait(self, job_id: str, on_event=None, should_cancel=None, timeout: float | None = None) -> JobResult:
        """Block until the job ends -> its JobResult. Raises JobFailed,
        JobCancelled, ServerUnavailable (server stopped or silent) or
        WaitTimeout. `should_cancel()` returning true cancels the job."""
        deadline = None if timeout is None else time.monotonic() + timeout
        cancel_sent = False
        with self._lock:
            self._pump(0)
            if job_id not in self._active and not self._events.get(job_id):
                self._resync(job_id)  # not ours, or from before a restart: subscribe
        while True:
            for event in self.poll(job_id, timeout_ms=100):
                if on_event is not None:
                    on_event(event)
                kind = event["type"]
                if kind == "done":
                    if cancel_sent:
                        raise JobCancelled(job_id, "the job finished before the cancel took effect; its result "
                                                   "was not fetched")
                    return self.result(job_id)
                if kind == "failed":
                    raise JobFailed(job_id, event.get("message") or "the job failed", event.get("code"))
                if kind == "cancelled":
                    raise JobCancelled(job_id, event.get("message") or "the job was cancelled")
            if not cancel_sent and should_cancel is not None and should_cancel():
                self.cancel(job_id)
                cancel_sent = True
            if deadline is not None and time.monotonic() > deadline:
                raise WaitTimeout(f"job {job_id} did not finish within {timeout:g} s (it keeps running; "
                                  f"fetch it later)", "timeout")
