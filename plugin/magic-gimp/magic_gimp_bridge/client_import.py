"""The client library, imported when a step needs the server (with pyzmq from GIMP's
Python or ./vendor), and the server the designer chose (Server Settings)."""

from __future__ import annotations

import sys

from magic_common.paths import data_dir
from magic_gimp_core import messages
from magic_gimp_core.server_choice import ServerChoice, load_choice
from magic_gimp_core.settings import PluginSettings


def import_client(settings: PluginSettings):
    """magic_client, or UserError saying how to get pyzmq / the client."""
    try:
        import zmq  # noqa: F401
    except ImportError as exc:
        raise messages.UserError(messages.zmq_missing(exc, settings.vendor_path)) from None
    try:
        import magic_client
    except ImportError as exc:
        raise messages.UserError(messages.client_missing(exc, settings.plugin_dir)) from None
    return magic_client


def choice_folder() -> str:
    """Where the choice is kept: the data folder, beside this computer's client key pair."""
    return str(data_dir())


def saved_choice() -> ServerChoice:
    """The server the designer chose; this computer's when none was saved, or when the
    saved file cannot be used (said on stderr, which GIMP's error console shows)."""
    choice, problem = load_choice(choice_folder())
    if problem:
        print(f"magic-gimp: {problem}; using the server on this computer", file=sys.stderr)
    return choice
