"""Every failure of the plug-in as a message that says what happened and
what to do. The GIMP side shows these; it never shows a traceback.

Client-library exceptions are told apart by their `failed_at` and `code`
attributes, so this module does not import magic_client (which needs pyzmq,
and pyzmq may be the problem).
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

INSTALLER_HINT = ("re-run the magic-gimp installer (install.sh, install.ps1 or "
                  "`python installer/install.py`)")
WEIGHTS_COMMAND = "`python installer/install.py --only weights`"
ZMQ_PACKAGES = ("Debian/Ubuntu: sudo apt install python3-zmq; Fedora: sudo dnf install python3-zmq; "
                "Arch: sudo pacman -S python-pyzmq")


class UserError(Exception):
    """A problem the user can fix (empty mask, wrong image mode...).
    Its text is shown as it is."""


def zmq_missing(error: BaseException, vendor_dir: str, python: str = sys.executable,
                version: Sequence[int] = sys.version_info) -> str:
    major, minor = version[0], version[1]
    return (f"MAGIC needs pyzmq in GIMP's Python ({python}, Python {major}.{minor}), and it cannot be "
            f"imported ({error}).\n\n"
            f"To fix it, install pyzmq for that Python — {ZMQ_PACKAGES} — or {INSTALLER_HINT}, which puts "
            f"a matching pyzmq in {vendor_dir}. Then restart GIMP.")


def client_missing(error: BaseException, plugin_dir: str) -> str:
    return (f"The MAGIC plug-in in {plugin_dir} is incomplete: its client library cannot be imported "
            f"({error}).\n\nTo fix it, {INSTALLER_HINT}, then restart GIMP.")


def server_not_installed(command: Sequence[str], error: BaseException, config_path: str) -> str:
    program = command[0] if command else "(none)"
    return (f"The MAGIC server is not installed: the plug-in tried to start it with {program}, which "
            f"cannot be run ({getattr(error, 'strerror', None) or error}).\n\n"
            f"To fix it, {INSTALLER_HINT} (it creates the server's Python environment), or correct "
            f"\"server_command\" in {config_path}.")


def no_server_and_no_command(detail: str, why_no_command: str) -> str:
    start = "start the server yourself"
    if "python -m magic_server" not in detail:  # the client library's text often says it already
        start += " (`python -m magic_server`)"
    return (f"MAGIC cannot reach its server: {detail}\n\nThe plug-in does not know how to start one "
            f"({why_no_command}).\n\nTo fix it, {start} or {INSTALLER_HINT}.")


def weights_warning(hello: dict) -> Optional[str]:
    """The server's own warning when its classifier has no trained weights
    (results then have texture statistics only), with what to do."""
    for classifier in (hello or {}).get("classifiers") or []:
        warning = classifier.get("warning")
        if warning:
            return (f"The MAGIC server runs without trained classifier weights: {warning}\n\n"
                    f"To fix it, install the weights: {WEIGHTS_COMMAND}, then restart the server.")
    return None


def studio_unreachable(address: str, problem: str) -> str:
    """`problem`: the client library's line, which names the address itself."""
    where = "" if address in problem else f" {address}"
    # No full stop after `problem`: it may end with a key, and '.' is a character of keys.
    return (f"MAGIC cannot use the studio server{where}: {problem}\n\n"
            f"To use this computer's own server instead, choose \"This computer\" in Filters → MAGIC → "
            f"Server Settings.")


def describe_failure(exc: BaseException) -> str:
    """The user's message for anything that went wrong while talking to the
    server or running the job."""
    text = str(exc).strip() or type(exc).__name__
    code = getattr(exc, "code", None)
    failed_at = getattr(exc, "failed_at", None)
    if isinstance(exc, UserError):
        return text
    if code == "cancelled":
        return "MAGIC was cancelled; nothing was added to the image."
    if failed_at == "job":
        if code == "interrupted":
            return f"The MAGIC server stopped while the job was running ({text}). Run MAGIC again."
        if code == "weights_missing":
            return f"MAGIC cannot run: {text}\n\nTo fix it, install the weights: {WEIGHTS_COMMAND}."
        return f"MAGIC could not make results: {text}\n\nNothing was added to the image."
    if failed_at == "connection":
        if code == "weights_missing":
            return (f"The MAGIC server could not start because its classifier weights are missing:\n{text}\n\n"
                    f"To fix it, install them: {WEIGHTS_COMMAND}.")
        if code == "bad_version":
            return f"The plug-in and the MAGIC server do not match: {text}.\n\nTo fix it, {INSTALLER_HINT}."
        return (f"MAGIC cannot reach its server: {text}\n\n"
                f"If it keeps happening, start the server by hand (`python -m magic_server`) to see why, "
                f"or {INSTALLER_HINT}.")
    if failed_at == "request":
        if code == "queue_full":
            return f"The MAGIC server is busy ({text}). Wait for the running jobs to finish, then try again."
        if code == "shutting_down":
            return "The MAGIC server is shutting down. Run MAGIC again in a few seconds (it starts a new one)."
        return f"The MAGIC server refused the job: {text}"
    if failed_at == "client":
        return f"MAGIC failed while talking to its server: {text}"
    return f"MAGIC failed unexpectedly: {type(exc).__name__}: {text}\n\nPlease report this with the steps that led to it."
