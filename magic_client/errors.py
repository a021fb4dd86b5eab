"""Exceptions of the client library. Every message is meant for a human."""

from __future__ import annotations


class MagicClientError(Exception):
    """Base class. `code` is a protocol error code (see protocol.ERROR_CODES) or None;
    `failed_at` says at which step of a job's way it failed ("client": this library,
    "connection": reaching the server, "request": the server refused it, "job": the
    job itself), so a caller that shows it need not know the classes."""

    failed_at = "client"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        return str(self)


class ProtocolError(MagicClientError):
    """A message does not follow protocol v1 (bad JSON, sizes that do not match...)."""


class ServerUnavailable(MagicClientError):
    """No server is running, it does not answer, or it stopped sending heartbeats."""

    failed_at = "connection"


class ServerError(MagicClientError):
    """The server refused a request; `code` says why, `reply` is its whole answer."""

    failed_at = "request"

    def __init__(self, message: str, code: str | None = None, reply: dict | None = None):
        super().__init__(message, code)
        self.reply = reply or {}


class JobFailed(MagicClientError):
    """The job ended with an error (bad input, engine error, server stopped)."""

    failed_at = "job"

    def __init__(self, job_id: str, message: str, code: str | None = None):
        super().__init__(message, code)
        self.job_id = job_id


class JobCancelled(MagicClientError):
    """The job was cancelled (by this client, another one, or for silence)."""

    failed_at = "job"

    def __init__(self, job_id: str, message: str = "the job was cancelled"):
        super().__init__(message, "cancelled")
        self.job_id = job_id


class WaitTimeout(MagicClientError, TimeoutError):
    """`wait(timeout=...)` ran out before the job finished (the job keeps running)."""
