"""Errors the installer reports to the user (message + what to do)."""

from __future__ import annotations

from typing import Optional


class InstallError(Exception):
    """A failure with a message written for the user, plus an optional fix."""

    def __init__(self, message: str, fix: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\n  -> {self.fix}"


class DownloadError(InstallError):
    """The file could not be fetched (network, HTTP status, retries used up)."""


class ChecksumError(InstallError):
    """The bytes arrived but are not the published file."""
