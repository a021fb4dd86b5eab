"""Exceptions of the engine. Every message names the problem and what to do."""


class MagicError(Exception):
    """Base class: anything the engine refuses or cannot do."""


class ConfigError(MagicError, ValueError):
    """A config field, preset or mode is invalid."""


class InputError(MagicError, ValueError):
    """The image or a mask cannot be used (size, emptiness, format)."""


class ClassifierError(MagicError):
    """The classifier could not be built or its weights could not be loaded."""


class Cancelled(MagicError):
    """The run was cancelled by the caller; nothing was produced."""
