"""MAGIC: mask-guided one-shot image synthesis by inverting a quasi-robust classifier.

    from magic_engine import make_config, synthesize
    result = synthesize("photo.jpg", "source.png", "target.png",
                        make_config("preview", "position"), classifier="auto")
    result.composites[0]  # uint8 array, the photo with the object moved

The engine knows nothing of servers or GIMP: torch, torchvision, numpy, Pillow.
"""

from magic_common import __version__  # noqa: F401 - the one version of every part

from .classifier import FeatureClassifier, RandomClassifierWarning, load_classifier  # noqa: E402
from .config import MODES, PRESET_NAMES, MagicConfig, make_config, preset_summaries  # noqa: E402
from .devices import available_devices, resolve_device  # noqa: E402
from .errors import Cancelled, ClassifierError, ConfigError, InputError, MagicError, WeightsMissing  # noqa: E402
from .progress import Progress  # noqa: E402
from .synthesis import SynthesisResult, synthesize  # noqa: E402

__all__ = [
    "Cancelled", "ClassifierError", "ConfigError", "FeatureClassifier", "InputError", "MODES",
    "MagicConfig", "MagicError", "PRESET_NAMES", "Progress", "RandomClassifierWarning",
    "SynthesisResult", "available_devices", "load_classifier", "make_config", "preset_summaries",
    "resolve_device", "synthesize", "WeightsMissing",
]
