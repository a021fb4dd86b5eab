"""The frozen classifier MAGIC inverts, with its feature-map taps.

`load_classifier(spec)` accepts:
  "auto"            the installed quasi-robust ResNet-50 if present, else "random"
  "random"          an untrained ResNet-50 (tests, offline use: no semantics!)
  "random:ARCH"     an untrained torchvision architecture, e.g. random:resnet18
  "ARCH"            a torchvision architecture with its pretrained weights,
                    taken from the torch hub cache (downloads are not possible offline)
  PATH              a checkpoint: robustness-library format (weights under
                    "model" with "module.model." prefixes) or a plain state dict;
                    the architecture is recognised from the weights' shapes.
  an nn.Module      used as is (must take ImageNet-normalised input)
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings
from pathlib import Path

import torch
import torch.fx
import torch.nn.utils.fusion
import torchvision
from torch import nn

from .errors import ClassifierError, WeightsMissing
from magic_common.checkpoints import load_manifest, sha256_of

from .paths import default_checkpoint_path

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Architectures tried, in order, when recognising a checkpoint's weights.
# "wide_resnet50_4" (published robust WRN-50-4) is not in torchvision's registry.
CHECKPOINT_ARCHS = (
    "resnet50", "resnet18", "resnet34", "resnet101", "resnet152",
    "wide_resnet50_2", "wide_resnet101_2", "wide_resnet50_4",
)
_IGNORED_PREFIXES = ("module.normalizer.", "module.attacker.", "normalizer.", "attacker.")
_STRIPPED_PREFIXES = ("module.model.", "module.", "model.")


class RandomClassifierWarning(UserWarning):
    """Raised (as a warning) when results will carry no learned semantics."""


def build_architecture(arch: str) -> nn.Module:
    if arch == "wide_resnet50_4":
        from torchvision.models.resnet import Bottleneck, ResNet

        return ResNet(Bottleneck, [3, 4, 6, 3], width_per_group=64 * 4)
    if arch not in torchvision.models.list_models(module=torchvision.models):
        raise ClassifierError(
            f"unknown classifier architecture {arch!r}; use a torchvision classification model name "
            f"such as resnet50, or a checkpoint path"
        )
    return torchvision.models.get_model(arch, weights=None)


class FeatureClassifier(nn.Module):
    """Frozen classifier that returns logits and the feature maps MAGIC matches.

    Input is in ImageNet-normalised space (MAGIC optimises there, as the
    official code does); `normalize` maps [0,1] pixels into it. The taps are
    the last feature map at each of the first four spatial resolutions, found
    by a probe forward; for a ResNet they are the stem (before max-pool),
    layer1, layer2 and layer3.
    """

    def __init__(self, model: nn.Module, description: str, warning: str | None = None, trained: bool = True):
        super().__init__()
        # An untrained network's gradients carry texture statistics only: what the
        # optimisation changes with it is drift, not meaning (synthesis.py keeps the start).
        self.trained = trained
        self.model = fold_batch_norms(model.eval())
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.description = description
        self.warning = warning
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.tap_names = self._find_taps()
        self._features: list = []
        modules = dict(self.model.named_modules())
        for name in self.tap_names:
            modules[name].register_forward_hook(self._record)

    def _record(self, module, inputs, output):
        self._features.append(output)

    def _find_taps(self) -> list:
        calls = []  # (module name, spatial size), in the order modules finish

        def hook(name):
            def record(module, inputs, output):
                if isinstance(output, torch.Tensor) and output.dim() == 4:
                    calls.append((name, tuple(output.shape[-2:])))
            return record

        handles = [m.register_forward_hook(hook(n)) for n, m in self.model.named_modules() if n]
        try:
            with torch.no_grad():
                # 64 px keeps start-up quick; the order of maps is size-independent.
                self.model(torch.zeros(1, 3, 64, 64, device=self.mean.device))
        except Exception as exc:  # noqa: BLE001 - any failure means unusable architecture
            raise ClassifierError(f"classifier {self.description} cannot take a 64x64 image: {exc}") from exc
        finally:
            for h in handles:
                h.remove()
        # A module called more than once (a ResNet block's shared ReLU) is no tap.
        counts: dict = {}
        for name, _ in calls:
            counts[name] = counts.get(name, 0) + 1
        calls = [(name, size) for name, size in calls if counts[name] == 1]
        # At each resolution, the last map among the outermost modules: for a
        # ResNet that is the stem ReLU, then layer1, layer2, layer3 (a deeper
        # module such as layer2.0.conv1 may also run at layer1's resolution).
        levels: dict = {}
        for name, size in calls:
            depth = name.count(".")
            best = levels.get(size)
            if best is None or depth <= best[1]:
                levels[size] = (name, depth)
        sizes = sorted(levels, key=lambda s: -s[0] * s[1])
        if len(sizes) < 4:
            raise ClassifierError(
                f"classifier {self.description} has fewer than 4 feature-map resolutions; MAGIC needs a CNN"
            )
        return [levels[s][0] for s in sizes[:4]]

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels - self.mean) / self.std

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.std + self.mean

    def forward(self, z: torch.Tensor):
        """z: normalised images -> (logits, [feature map per tap])."""
        self._features = []
        logits = self.model(z)
        features, self._features = self._features, []
        return logits, features

    def train(self, mode: bool = True):
        # Always eval: BatchNorm must use its running statistics.
        return super().train(False)


def fold_batch_norms(model: nn.Module) -> nn.Module:
    """Fold each eval-mode BatchNorm into the convolution that feeds it, in
    place (same output up to rounding, ~15 % less work for a ResNet-50).
    Pairs are found by tracing the data flow; untraceable models are left
    as they are."""
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - dynamic control flow: no folding, still correct
        return model
    modules = dict(model.named_modules())
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(modules.get(node.target), nn.BatchNorm2d):
            continue
        source = node.args[0]
        if (not isinstance(source, torch.fx.Node) or source.op != "call_module" or len(source.users) != 1
                or type(modules.get(source.target)) is not nn.Conv2d):
            continue
        conv, bn = modules[source.target], modules[node.target]
        if not bn.track_running_stats or bn.running_mean is None:
            continue
        _set_submodule(model, source.target, torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn))
        _set_submodule(model, node.target, nn.Identity())
    return model


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


# ---------------------------------------------------------------- loading


def _is_published_checkpoint(path: Path) -> bool:
    known = {entry.sha256 for entry in load_manifest().values() if entry.sha256}
    return sha256_of(path) in known


def _read_checkpoint(path: Path, trust: bool) -> object:
    """torch.load, refusing arbitrary pickles unless the file is known or trusted."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError) as exc:
        if not (trust or _is_published_checkpoint(path)):
            raise ClassifierError(
                f"{path} holds pickled Python objects besides weights ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}). Loading it could run code from the file. "
                f"If you trust where it came from, pass --trust-checkpoint (trust_checkpoint=True)."
            ) from exc
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise ClassifierError(f"{path} could not be read as a torch checkpoint: {exc}") from exc


def extract_state_dict(obj: object, path: Path) -> dict:
    """The classifier's own weights from any supported checkpoint layout."""
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ClassifierError(
            f"{path} is not a classifier checkpoint: expected a state dict of tensors, or a dict with "
            f"one under 'model' (robustness library) or 'state_dict'"
        )
    state = {}
    for key, value in obj.items():
        if key.startswith(_IGNORED_PREFIXES):
            continue  # robustness library: input normaliser and the attacker's copy of the model
        for prefix in _STRIPPED_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        state[key] = value
    return state


def _mismatch(expected: dict, state: dict) -> tuple:
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    return missing, unexpected, wrong


def recognise_architecture(state: dict, path: Path, arch: str | None = None) -> str:
    """Name of the architecture whose weights have exactly these keys and shapes."""
    candidates = (arch,) if arch else CHECKPOINT_ARCHS
    best = None
    for name in candidates:
        with torch.device("meta"):
            expected = build_architecture(name).state_dict()
        missing, unexpected, wrong = _mismatch(expected, state)
        if not (missing or unexpected or wrong):
            return name
        score = len(missing) + len(unexpected) + len(wrong)
        if best is None or score < best[0]:
            best = (score, name, missing, unexpected, wrong)
    _, name, missing, unexpected, wrong = best
    details = []
    if missing:
        details.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if unexpected:
        details.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
    if wrong:
        k = wrong[0]
        details.append(f"{len(wrong)} with other shapes (e.g. {k}: {tuple(state[k].shape)})")
    raise ClassifierError(
        f"{path}: weights do not match {'architecture ' + arch if arch else 'any supported architecture'} "
        f"({', '.join(candidates)}). Closest is {name}: {'; '.join(details)} keys."
    )


def _from_checkpoint(path: Path, trust: bool, arch: str | None) -> FeatureClassifier:
    if not path.is_file():
        hint = ""
        if path == default_checkpoint_path():
            hint = " Run `python installer/install.py` to download it, or use --classifier random."
        raise WeightsMissing(f"classifier weights not found: {path} (expected a .ckpt/.pt file).{hint}")
    state = extract_state_dict(_read_checkpoint(path, trust), path)
    name = recognise_architecture(state, path, arch)
    model = build_architecture(name)
    model.load_state_dict(state, strict=True)
    return FeatureClassifier(model, f"{name} from {path}")


def _random(arch: str, seed: int) -> FeatureClassifier:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_architecture(arch)
    message = (
        f"using an UNTRAINED {arch}: results carry no learned semantics (texture statistics only). "
        f"Install the quasi-robust weights with `python installer/install.py` for real results."
    )
    warnings.warn(message, RandomClassifierWarning, stacklevel=3)
    log.warning(message)
    return FeatureClassifier(model, f"random {arch}", warning=message, trained=False)


def _pretrained(arch: str) -> FeatureClassifier:
    build_architecture(arch)  # validates the name
    try:
        model = torchvision.models.get_model(arch, weights="DEFAULT")
    except Exception as exc:  # noqa: BLE001 - network or cache failures
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        raise ClassifierError(
            f"pretrained weights for {arch} are not in the torch cache ({cache}) and could not be "
            f"downloaded ({type(exc).__name__}: {exc}). Put the file there, or pass a checkpoint path."
        ) from exc
    return FeatureClassifier(model, f"{arch} (torchvision pretrained)")


def load_classifier(spec="auto", device="cpu", *, trust_checkpoint: bool = False, seed: int = 0) -> FeatureClassifier:
    """Build the frozen classifier named by `spec` (see module docstring) on `device`."""
    if isinstance(spec, FeatureClassifier):
        classifier = spec
    elif isinstance(spec, nn.Module):
        classifier = FeatureClassifier(spec, type(spec).__name__)
    elif not isinstance(spec, (str, os.PathLike)):
        raise ClassifierError(f"classifier must be a name, a path or a module, got {type(spec).__name__}")
    else:
        text = os.fspath(spec)
        if text == "auto":
            path = default_checkpoint_path()
            classifier = _from_checkpoint(path, trust_checkpoint, None) if path.is_file() else _random("resnet50", seed)
        elif text == "random":
            classifier = _random("resnet50", seed)
        elif text.startswith("random:"):
            classifier = _random(text.split(":", 1)[1], seed)
        elif _looks_like_path(text):
            classifier = _from_checkpoint(Path(text).expanduser(), trust_checkpoint, None)
        else:
            classifier = _pretrained(text)
    return classifier.to(device)


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or text.endswith((".ckpt", ".pt", ".pth", ".bin")) or Path(text).exists()
