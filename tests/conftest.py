"""Shared test fixtures. Server fixtures live in server_fixtures.py (reusable
from scripts too); importing them here makes them visible to every test."""

from server_fixtures import magic_server, server_factory  # noqa: F401
