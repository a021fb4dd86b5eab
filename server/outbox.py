"""Events from any thread to the ZeroMQ loop (sockets are not thread-safe,
so workers never touch the ROUTER socket themselves)."""

from __future__ import annotations

import queue
import secrets
import threading

import zmq


class Outbox:
    """Events from any thread to the loop: a queue, plus a one-byte wake-up
    on an inproc socket so the loop does not wait for its poll timeout."""

    def __init__(self, context: zmq.Context):
        self.address = f"inproc://magic-outbox-{secrets.token_hex(4)}"
        self.items = queue.SimpleQueue()
        self.pull = context.socket(zmq.PULL)
        self.pull.bind(self.address)
        self._context = context
        self._local = threading.local()
        self._sockets = []
        self._sockets_lock = threading.Lock()

    def put(self, job_id: str, header: dict, buffers=()) -> None:
        self.items.put((job_id, header, list(buffers)))
        sock = getattr(self._local, "push", None)
        if sock is None:
            sock = self._context.socket(zmq.PUSH)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(self.address)
            self._local.push = sock
            with self._sockets_lock:
                self._sockets.append(sock)
        try:
            sock.send(b"", zmq.NOBLOCK)
        except zmq.Again:
            pass  # the loop is already behind on wake-ups; it will drain the queue anyway

    def drain(self) -> list:
        while True:
            try:
                self.pull.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
        items = []
        while True:
            try:
                items.append(self.items.get_nowait())
            except queue.Empty:
                return items

    def close(self) -> None:
        with self._sockets_lock:
            for sock in self._sockets:
                sock.close(linger=0)
        self.pull.close(linger=0)
