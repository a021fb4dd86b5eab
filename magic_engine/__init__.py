"""MAGIC: mask-guided one-shot image synthesis by inverting a quasi-robust classifier.

    from magic_engine import make_config, synthesize
    result = synthesize("photo.jpg", "source.png", "target.png",
                        make_config("preview", "position"), classifier="auto")
    result.composites[0]  # uint8 array, the photo with the object moved

The engine knows nothing of servers or GIMP: torch, torchvision, numpy, Pillow.
The names below are imported on first use, so a module that needs no torch
(`magic_engine.inputs`, which reads images and masks, or `magic_engine.errors`)
can be imported by a command line without importing torch.
"""

from importlib import import_module

from magic_common import __version__  # noqa: F401 - the one version of every part

# name -> the module that defines it
_HOMES = {
    "FeatureClassifier": "classifier", "RandomClassifierWarning": "classifier", "load_classifier": "classifier",
    "MODES": "config", "PRESET_NAMES": "config", "MagicConfig": "config", "make_config": "config",
    "preset_summaries": "config",
    "available_devices": "devices", "resolve_device": "devices",
    "Cancelled": "errors", "ClassifierError": "errors", "ConfigError": "errors", "InputError": "errors",
    "MagicError": "errors", "WeightsMissing": "errors",
    "Progress": "progress",
    "SynthesisResult": "synthesis", "synthesize": "synthesis",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'magic_engine' has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOMES))
