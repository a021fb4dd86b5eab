"""Exceptions of the engine. Every message names the problem and what to do.

Each has a `code`, the protocol's job failure code (magic_client.protocol.ERROR_CODES),
so a server reports what went wrong and a front end decides by it, never by the words.
"""


class MagicError(Exception):
    """Base class: anything the engine refuses or cannot do."""

    code = "engine_error"


class ConfigError(MagicError, ValueError):
    """A config field, preset or mode is invalid."""


class InputError(MagicError, ValueError):
    """The image or a mask cannot be used (size, emptiness, format)."""

    code = "bad_input"


class ClassifierError(MagicError):
    """The classifier could not be built or its weights could not be loaded."""


class WeightsMissing(ClassifierError):
    """The classifier's weights file is not there (the installer downloads it)."""

    code = "weights_missing"


class Cancelled(MagicError):
    """The run was cancelled by the caller; nothing was produced."""

    code = "cancelled"


def failure_code(exc: BaseException) -> str:
    """The job failure code of an engine exception; anything else is an engine error."""
    return exc.code if isinstance(exc, MagicError) else "engine_error"
