"""The server's ZeroMQ loop: answers requests, pushes job events to the
clients watching them, sends heartbeats, and runs the timers (silent
clients, result expiry, idle exit). It never runs the engine itself.

A request that fails any check gets an error reply and the loop goes on;
an unexpected exception while handling one is logged and answered with
code "internal". Nothing a client sends can stop the loop except a valid
`shutdown`.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import signal
import time
from dataclasses import dataclass

import zmq

from magic_client import protocol
from magic_client.errors import ProtocolError
from magic_client.transfer import image_sha256
from magic_common.masks import mask_box
from magic_common.phases import QUEUED
from magic_common.region import crop_bytes

from . import __version__
from .endpoint import prepare_ipc_path
from .estimates import Estimates
from .jobs import LOCAL_CLIENT, Job, JobBoard, QueueFull, new_job_id
from .outbox import Outbox
from .refusals import RefusalLog
from .runtime_file import RuntimeFile
from .spool import Spool, SpoolError
from .uploads import Uploads
from .validation import (RequestError, accepts_compressed, check_envelope, check_estimate, check_flag,
                         check_job_id, check_params, check_ping_jobs, check_submit, request_id)
from .worker import Worker

log = logging.getLogger(__name__)

TIMER_PERIOD_S = 0.25  # how often timers run and stop requests are noticed
EXPIRY_PERIOD_S = 30.0
# Replies are compressed in this loop, at 80-170 MB/s: above this they go raw, so that
# no fetch stops the loop (heartbeats, cancels, other clients) for more than about a second.
# A distant client's results are its edit's box, which stays well below it.
COMPRESS_MAX_BYTES = 64 * 2**20
WORKER_STOP_TIMEOUT_S = 60.0  # an engine step on a slow device, plus writing results


@dataclass(frozen=True)
class Peer:
    """Who sent a request: the connection (ZeroMQ routing id, where replies and events
    go) and the client behind it (jobs.LOCAL_CLIENT, or a --curve client's public key),
    who owns the jobs it submits."""

    identity: bytes
    client: str


@dataclass
class Settings:
    endpoint: str
    runtime_file: str
    spool: str
    max_queue: int = 32
    max_queue_per_client: int | None = None  # None: max_queue
    max_pixels: int = protocol.DEFAULT_MAX_PIXELS
    keep_results_s: float = 24 * 3600.0
    keep_fetched_s: float = 600.0
    max_result_bytes: int = 20 * 10**9  # results kept at most, all jobs together
    max_upload_bytes: int = 4 * 10**9  # uploaded photos kept for clients' next runs, all together
    idle_exit_s: float = 0.0  # 0: never
    heartbeat_s: float = 1.0
    progress_interval_s: float = 0.25
    preview_interval_s: float = 2.0


class Server:
    def __init__(self, settings: Settings, runtime_file: RuntimeFile, spool: Spool, security=None):
        self.settings = settings
        self.security = security  # security.CurveSecurity, or None: loopback or ipc, requests carry the token
        self.engine = None  # set by start(): loading it takes seconds, binding does not
        self.estimates = None  # set by start(), with the engine
        self.runtime_file = runtime_file
        self.spool = spool
        self.token = secrets.token_urlsafe(32)
        self.context = zmq.Context()
        self.outbox = Outbox(self.context)
        self._refusals = RefusalLog()
        self.board = JobBoard(spool, settings.max_queue, self.outbox.put, settings.max_queue_per_client)
        self.uploads = Uploads(spool.root, settings.max_upload_bytes, settings.keep_results_s)
        self.watchers: dict = {}  # job id -> set of routing ids
        self.stop_reason = None
        self.endpoint = None
        self.router = None
        self.workers = []
        self._last_positions = {}
        self._last_activity = time.monotonic()
        self._next_heartbeat = 0.0
        self._next_expiry = 0.0
        self.handlers = {
            "hello": self.op_hello, "ping": self.op_ping, "estimate": self.op_estimate, "submit": self.op_submit,
            "status": self.op_status, "watch": self.op_watch, "cancel": self.op_cancel, "result": self.op_result, "jobs": self.op_jobs,
            "shutdown": self.op_shutdown,
        }

    # --- life cycle ------------------------------------------------------
    def bind(self) -> str:
        if self.security is not None:
            self.security.start(self.context)  # the ZAP handler must answer before the first client connects
        router = self.context.socket(zmq.ROUTER)
        if self.security is not None:
            self.security.secure(router)
        # libzmq drops the connection of a peer that sends a bigger frame.
        router.setsockopt(zmq.MAXMSGSIZE, protocol.max_frame_bytes(self.settings.max_pixels))
        router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # unknown peer: an error we catch, not a silent drop
        router.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a reconnecting client keeps its routing id
        router.setsockopt(zmq.LINGER, 1000)
        prepare_ipc_path(self.settings.endpoint)
        old_umask = os.umask(0o177)  # an ipc socket file is then 0600: only this user may connect
        try:
            router.bind(self.settings.endpoint)
        except BaseException:
            router.close(linger=0)
            raise
        finally:
            os.umask(old_umask)
        self.router = router
        self.endpoint = router.getsockopt_string(zmq.LAST_ENDPOINT)
        return self.endpoint

    def start(self, engine) -> dict:
        """With the socket bound: restore the spool, start a worker per
        device of `engine` (server.engine.IsolatedEngine), publish the runtime file."""
        self.engine = engine
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.estimates = Estimates(self.spool.root, engine.devices, engine.estimate_key, engine.default_config,
                                   engine.estimate_presets())
        counts = self.board.restore()
        self._last_positions = self.board.queue_positions()
        for device in self.engine.devices:
            worker = Worker(device, self.board, self.engine, self.spool, self.outbox.put,
                            self.settings.progress_interval_s, self.settings.preview_interval_s, self.estimates)
            worker.start()
            self.workers.append(worker)
        self.runtime_file.write({
            "protocol": protocol.PROTOCOL_VERSION, "server_version": __version__, "endpoint": self.endpoint,
            "pid": os.getpid(), "token": self.token, "started": self.started,
            "spool": str(self.spool.root),
            **({"server_key": self.security.public_key} if self.security is not None else {}),
        })
        return counts

    def abort(self) -> None:
        """Undo a start that failed half-way."""
        self.board.stop()
        for worker in self.workers:
            worker.join(timeout=10)
        if self.engine is not None:
            self.engine.close()
        self.runtime_file.remove()
        if self.router is not None:
            self.router.close(linger=0)
        self.outbox.close()
        if self.security is not None:
            self.security.stop()
        self.context.destroy(linger=0)
        self.spool.release()

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    def install_signal_handlers(self) -> None:
        def handler(signum, _frame):
            self.request_stop(f"signal {signal.Signals(signum).name}")

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def serve(self) -> None:
        """Serve until a stop is requested, then keep answering (new jobs are
        refused) while the workers stop, so clients hear how their jobs ended."""
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(self.outbox.pull, zmq.POLLIN)
        stop_deadline = None
        while True:
            if self.stop_reason is not None:
                if stop_deadline is None:
                    log.info("stopping: %s", self.stop_reason)
                    self.board.stop()
                    stop_deadline = time.monotonic() + WORKER_STOP_TIMEOUT_S
                if not any(w.is_alive() for w in self.workers) or time.monotonic() > stop_deadline:
                    break
            ready = dict(poller.poll(int(TIMER_PERIOD_S * 1000)))
            if self.router in ready:
                self._receive_all()
            self._flush_events()
            self._run_timers()
        self._close()

    def _close(self) -> None:
        for worker in self.workers:
            if worker.is_alive():
                log.warning("worker %s did not stop in time; its job will read as interrupted", worker.name)
        self.engine.close()  # engine processes of workers that did not stop are killed
        self._flush_events()
        self.runtime_file.remove()
        self.router.close(linger=1000)
        self.outbox.close()
        if self.security is not None:
            self.security.stop()
        self.context.term()
        self.spool.release()
        log.info("stopped")

    # --- receiving -------------------------------------------------------
    def _receive_all(self, limit: int = 200) -> None:
        for _ in range(limit):
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self._handle(frames)

    def _handle(self, frames) -> None:
        identity = frames[0].bytes
        body = frames[1:]
        header = {}
        try:
            if not body:
                raise ProtocolError("empty message", "bad_header")
            header = protocol.parse_header(protocol.frame_bytes(body[0]))
            # With CURVE the ZAP handler has authenticated the connection: no token needed.
            op = check_envelope(header, None if self.security is not None else self.token)
            buffers = protocol.decode_buffers(header, body[1:], self.settings.max_pixels)
            peer = Peer(identity, self._client_of(body[0]))
            self._touch(peer, header)
            reply, reply_buffers = self.handlers[op](peer, header, buffers)
            reply.update({"type": protocol.REPLY, "ok": True, "id": header["id"], "op": op})
            raw = sum(memoryview(data).nbytes for _, data in reply_buffers)
            compress = accepts_compressed(header) and raw <= COMPRESS_MAX_BYTES
            self._send(identity, reply, reply_buffers, compress)
        except (ProtocolError, RequestError) as exc:
            extra = getattr(exc, "extra", {})
            self._send_error(identity, header, exc.code, str(exc), extra)
        except Exception as exc:  # noqa: BLE001 - no request may stop the server
            log.exception("error handling a request")
            self._send_error(identity, header, "internal", f"the server failed on this request "
                                                            f"({type(exc).__name__}: {exc}); see its log")

    def _client_of(self, frame) -> str:
        """The client a message came from: on a --curve server the public key its ZAP
        handler admitted (the server's own user counts as local), else the local user."""
        if self.security is None:
            return LOCAL_CLIENT
        key = frame.get("User-Id")
        if key == self.security.local_client_key:
            return LOCAL_CLIENT
        # A key removed from the allowed file loses its open connection's requests too.
        if not self.security.allowed.allows(key.encode("ascii")):
            raise RequestError("forbidden", "this computer's key is no longer allowed on this server; ask its admin")
        return key

    def _send_error(self, identity: bytes, header: dict, code: str, message: str, extra=None) -> None:
        reply = {"type": protocol.ERROR, "ok": False, "id": request_id(header) if header else None,
                 "code": code, "message": message}
        if code != "bad_token":
            reply.update(extra or {})
        self._refusals.log(code, message)
        self._send(identity, reply)

    def _send(self, identity: bytes, header: dict, buffers=(), compress: bool = False) -> bool:
        try:
            self.router.send_multipart([identity] + protocol.encode(header, buffers, compress), zmq.NOBLOCK,
                                       copy=False)
            return True
        except zmq.ZMQError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.EAGAIN):
                return False  # the peer went away, or is not reading: it can ask for status later
            raise

    def _touch(self, peer: Peer, header: dict) -> None:
        """Signs of life for `cancel_if_silent_s`: any message from a job's
        submitter, and a ping or watch naming the job (a client that took
        over, e.g. a restarted plug-in). Another client's status is not one."""
        now = time.monotonic()
        self._last_activity = now
        named = set()  # only well-formed ids count; the op's own checks answer the rest
        if header.get("op") == "ping" and isinstance(header.get("jobs"), list):
            named = {job for job in header["jobs"] if isinstance(job, str)}
        elif header.get("op") == "watch" and isinstance(header.get("job"), str):
            named = {header["job"]}
        for job in self.board.active():
            if job.owner == peer.identity or (job.id in named and job.client == peer.client):
                job.last_seen = now

    # --- operations: each returns (reply fields, reply buffers) -----------
    def op_hello(self, peer, header, buffers):
        info = dict(self.engine.hello_info())
        info.update({
            "protocol": protocol.PROTOCOL_VERSION, "server_version": __version__, "pid": os.getpid(),
            "started": self.started, "heartbeat_s": self.settings.heartbeat_s,
            "limits": {"max_pixels": self.settings.max_pixels, "max_side": protocol.MAX_IMAGE_SIDE,
                       "min_side": protocol.MIN_IMAGE_SIDE, "max_frame_bytes":
                       protocol.max_frame_bytes(self.settings.max_pixels), "max_queue": self.settings.max_queue,
                       "max_request_header_bytes": protocol.MAX_REQUEST_HEADER_BYTES},
            "queue": self._queue_summary(peer),
            # Buffers may come compressed, and a submit may name a photo uploaded before by its sha256.
            # A result may come as the edit's box alone (the rest is the submitted image).
            "transfer": {"encodings": list(protocol.ENCODINGS), "keeps_uploads": self.settings.max_upload_bytes > 0,
                         "edit_box_only": True},
        })
        return info, []

    def op_ping(self, peer, header, buffers):
        jobs = {}
        for job_id in check_ping_jobs(header):
            job = self.board.get(job_id)
            jobs[job_id] = job.state if job and job.client == peer.client else None
        return {"time": time.time(), "jobs": jobs}, []

    def op_submit(self, peer, header, buffers):
        if self.stop_reason is not None:
            raise RequestError("shutting_down", "the server is stopping and takes no new jobs")
        request = check_submit(header, buffers)
        params = check_params(request.params, self.engine.choices())
        self.engine.make_config(params)  # the engine's own checks, now rather than when the job starts
        job = Job(id=new_job_id(), width=request.width, height=request.height, params=params,
                  cancel_if_silent_s=request.cancel_if_silent_s, owner=peer.identity, client=peer.client,
                  placement=request.placement)
        inputs = {"image": self._submitted_image(peer, request), "source_mask": request.source_mask,
                  "target_mask": request.target_mask}
        try:
            position = self.board.add(job, inputs)
        except QueueFull as exc:
            raise RequestError("queue_full", str(exc)) from None
        except OSError as exc:
            raise RequestError("internal", f"the job could not be saved to the spool: {exc}") from None
        if request.image_sha256 is not None and request.image is not None:
            self.uploads.keep(peer.client, request.image_sha256, self.spool.input_file(job.id, "image"))
        ahead = self._ahead(position, job.id)
        self.watchers.setdefault(job.id, set()).add(peer.identity)
        self._last_positions[job.id] = position
        log.info("job %s queued at position %d (%dx%d, %s)", job.id, position, job.width, job.height, params)
        # The reply answers the request; "accepted" starts the job's event stream.
        self.outbox.put(job.id, {"type": "accepted", "job": job.id, "queue_position": position,
                                 "params": params, "width": job.width, "height": job.height, **ahead})
        return {"job": job.id, "queue_position": position}, []

    def _submitted_image(self, peer: Peer, request):
        """The submit's image: the one it sent (checked against the sha256 it gave), or
        the file of the one it names by sha256, which this client uploaded before."""
        nbytes = request.width * request.height * 4
        if request.image is None:
            kept = self.uploads.find(peer.client, request.image_sha256, nbytes)
            if kept is None:
                raise RequestError("image_not_held", "this server does not hold that image (any more); send it")
            return kept
        if request.image_sha256 is not None and image_sha256(request.image) != request.image_sha256:
            raise RequestError("invalid_param", "image_sha256 is not the sha256 of the image sent")
        return request.image

    def _job(self, peer: Peer, header) -> Job:
        """The job a request names; another client's job is not there for this one."""
        job_id = check_job_id(header.get("job"))
        job = self.board.get(job_id)
        if job is None or job.client != peer.client:
            raise RequestError("unknown_job", f"no job {job_id} on this server (never submitted here, or its "
                                              f"results expired)")
        return job

    def _job_reply(self, job: Job):
        return {"job": job.summary(self.board.queue_position(job.id))}, []

    def op_estimate(self, peer, header, buffers):
        width, height = check_estimate(header, self.settings.max_pixels)
        reply = self.estimates.estimate(width, height)
        reply["queue"] = self._queue_summary(peer)
        return reply, []

    def _seconds_left(self, job: Job):
        """A job's time still to run: a running one's last estimate, else its preset's
        measured time for its size, variants and iterations (less what it has run);
        None if nothing is known."""
        eta = job.progress.get("eta_s") if job.state == "running" else None
        if eta is not None:
            return max(0.0, eta - (time.monotonic() - job.progress.get("at", time.monotonic())))
        try:
            config = self.engine.make_config(job.params)
        except RequestError:  # a job restored from an older server's spool: its preset's own figure
            config = None
        measured = self.estimates.seconds(job.params.get("preset"), job.width, job.height, config)
        if measured is None:
            return None
        ran = time.time() - job.started if job.state == "running" and job.started else 0.0
        return max(0.0, measured - ran)

    def _ahead(self, position: int, job_id: str | None = None) -> dict:
        """What a job at queue `position` waits for: the jobs running and queued before
        it, and the seconds until it starts (None where one of them has no estimate).
        The workers share the jobs ahead, so it starts at once while one is free.
        `job_id`: the job itself, whose place may have moved (a worker took a job
        before it) and which a worker may have taken already."""
        positions = self.board.queue_positions()
        if job_id is not None:
            if job_id not in positions:  # a worker took it already: it waits for nothing
                return {"jobs_ahead": 0, "wait_s": 0.0}
            position = positions[job_id]
        running = [job for job in self.board.active() if job.state == "running" and job.id != job_id]
        before = [job for job in (self.board.get(other) for other, place in positions.items()
                                  if place < position and other != job_id) if job is not None]
        workers = max(1, len(self.engine.devices))
        if len(running) + len(before) < workers:
            return {"jobs_ahead": 0, "wait_s": 0.0}
        lefts = [self._seconds_left(job) for job in running + before]
        wait = None if any(left is None for left in lefts) else round(sum(lefts) / workers, 1)
        return {"jobs_ahead": len(running) + len(before), "wait_s": wait}

    def _queue_summary(self, peer: Peer) -> dict:
        """Jobs queued and running, and `ahead`: those a new job of this client would
        wait for (the running ones, and the queued ones the clients' turns put first)."""
        running = sum(1 for job in self.board.active() if job.state == "running")
        return {"queued": len(self.board.queue_positions()), "running": running,
                "ahead": running + self.board.position_of_next(peer.client)}

    def op_status(self, peer, header, buffers):
        job = self._job(peer, header)
        return self._job_reply(job)

    def op_watch(self, peer, header, buffers):
        job = self._job(peer, header)
        if not job.final:
            self.watchers.setdefault(job.id, set()).add(peer.identity)
        return self._job_reply(job)

    def op_cancel(self, peer, header, buffers):
        job = self._job(peer, header)
        self.board.cancel(job, "cancelled by a client")
        return self._job_reply(job)

    def op_result(self, peer, header, buffers):
        job = self._job(peer, header)
        edit_box_only = check_flag(header, "edit_box_only")
        if job.state != "done":
            code = {"failed": "job_failed", "cancelled": "job_cancelled"}.get(job.state, "not_ready")
            message = {"job_failed": f"job {job.id} failed: {job.message}",
                       "job_cancelled": f"job {job.id} was cancelled",
                       "not_ready": f"job {job.id} is {job.state}; its result is not ready"}[code]
            raise RequestError(code, message, state=job.state, job_code=job.code)
        try:
            layers, edit_mask = self.spool.load_result(job.id, job.width, job.height, job.variants)
        except SpoolError as exc:
            raise RequestError("internal", str(exc)) from None
        self.board.mark_fetched(job)
        # Outside the edit a result is the submitted image: a client that holds it takes the edit's box alone.
        box = mask_box(edit_mask, job.width, job.height, inside_from=1) if edit_box_only else None
        if box is not None:
            layers = [crop_bytes(layer, job.width, 4, box) for layer in layers]
            edit_mask = crop_bytes(edit_mask, job.width, 1, box)
        width, height = (box.width, box.height) if box is not None else (job.width, job.height)
        out = [(protocol.BufferSpec(f"composite_{i}", width, height, 4), layer) for i, layer in enumerate(layers)]
        out.append((protocol.BufferSpec("edit_mask", width, height, 1), edit_mask))
        return {"job": job.id, "width": job.width, "height": job.height, "variants": len(layers),
                "params": job.params, "report": job.report, "placement": job.placement,
                "edit_box": None if box is None else {"left": box.left, "top": box.top, "width": box.width,
                                                      "height": box.height}}, out

    def op_jobs(self, peer, header, buffers):
        positions = self.board.queue_positions()
        local = peer.client == LOCAL_CLIENT
        return {"jobs": [job.summary(positions.get(job.id)) for job in self.board.all() if job.client == peer.client],
                "quarantined": list(self.board.quarantined) if local else []}, []

    def op_shutdown(self, peer, header, buffers):
        if peer.client != LOCAL_CLIENT:
            raise RequestError("forbidden", "only the user the server runs as can stop it")
        self.request_stop("shutdown requested by a client")
        return {"message": "the server is stopping"}, []

    # --- events and timers -----------------------------------------------
    def _flush_events(self) -> None:
        for job_id, header, buffers in self.outbox.drain():
            for identity in list(self.watchers.get(job_id, ())):
                self._send(identity, header, buffers)
            if header["type"] in protocol.FINAL_STATES:  # final events are named after final states
                self.watchers.pop(job_id, None)
                self._last_positions.pop(job_id, None)
            if header["type"] == "done":
                self._next_expiry = 0.0  # new results: check the spool's size cap now
        self._announce_queue_positions()

    def _announce_queue_positions(self) -> None:
        positions = self.board.queue_positions()
        for job_id, position in positions.items():
            if self._last_positions.get(job_id) != position:
                header = protocol.progress_event(job_id, QUEUED, queue_position=position, **self._ahead(position))
                for identity in list(self.watchers.get(job_id, ())):
                    self._send(identity, header)
        self._last_positions = positions

    def _run_timers(self) -> None:
        now = time.monotonic()
        active = self.board.active()
        if active:
            self._last_activity = now
        for job in active:
            limit = job.cancel_if_silent_s
            if limit and not job.cancel_event.is_set() and now - job.last_seen > limit:
                log.info("job %s: no word from its client for %.0f s, cancelling", job.id, limit)
                self.board.cancel(job, f"cancelled: no word from the client for {limit:g} s "
                                       f"(it was probably closed)")
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self.settings.heartbeat_s
            self._send_heartbeats(active)
        if now >= self._next_expiry:
            # often enough for short keep times, rarely for the usual hours
            self._next_expiry = now + max(1.0, min(EXPIRY_PERIOD_S, self.settings.keep_fetched_s / 2))
            self.expire()
        idle = self.settings.idle_exit_s
        if idle and not active and self.stop_reason is None and now - self._last_activity >= idle:
            self.request_stop(f"idle for {idle:g} s")

    def _send_heartbeats(self, active: list) -> None:
        positions = self.board.queue_positions()
        per_peer = {}
        for job in active:
            for identity in self.watchers.get(job.id, ()):
                per_peer.setdefault(identity, {})[job.id] = {
                    "state": job.state, "queue_position": positions.get(job.id),
                    "step": job.progress.get("step"), "total": job.progress.get("total")}
        for identity, jobs in per_peer.items():
            self._send(identity, {"type": "heartbeat", "time": time.time(), "jobs": jobs})

    def expire(self) -> None:
        for job_id in self.board.expire(self.settings.keep_results_s, self.settings.keep_fetched_s,
                                        self.settings.max_result_bytes):
            self.watchers.pop(job_id, None)
            log.info("job %s expired and was removed from the spool", job_id)
        dropped = self.uploads.expire()
        if dropped:
            log.info("%d uploaded image(s) no longer kept for later runs", dropped)
