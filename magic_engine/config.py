"""One config object for every weight and schedule of the MAGIC objective.

The defaults are the official code's values (setting 2, 224 px, 18k steps).
The three modes and the presets are just different values of these fields:
`make_config(preset, mode, **overrides)` is the one way to build one.

Schedules that the official code gives in absolute steps (critic starts at
5,000 of 18,000, mask net trained for the first 10,000) are stored as
fractions of `iterations`, so a shorter run keeps the same shape.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from magic_common import choices
from magic_common.limits import MAX_IMAGE_PIXELS
from magic_common.region import CONTEXT_MARGIN, MIN_CONTEXT

from .errors import ConfigError

# Mode name -> what differs between the modes: the loss weights of the
# official modes (position = official "location", shape = official default
# (''), scene = official "synthesis": a stronger TV prior suits repetitive
# textures), and how closely the refinement keeps the object's stretch
# (`object_coherence`): a repetitive scene's thin members (a lattice's bars)
# run at angles the photo has nowhere else, so patches rebuild them broken,
# while an object's curved outline (a cup's rim) is rebuilt better by
# patches than stretched row by row.
MODE_SETTINGS = {
    "position": {"tv_l1_weight": 0.0, "tv_l2_weight": 1e-4, "adversarial_weight": 0.1},
    "shape": {"tv_l1_weight": 0.0, "tv_l2_weight": 1e-4, "adversarial_weight": 0.05},
    "scene": {"tv_l1_weight": 1e-3, "tv_l2_weight": 1e-3, "adversarial_weight": 0.05, "object_coherence": 0.9},
}
MODES = tuple(MODE_SETTINGS)
assert MODES == choices.MODES, "magic_common.choices names the modes"

# Preset name -> overrides of the defaults, plus a one-line summary for
# `hello`, the CLI and docs/benchmarks.md. Every preset delivers the region at its
# own resolution; they differ in how long MAGIC works at level 0 and how
# many patch rounds each finer level gets. Costs are measured, see
# docs/benchmarks.md "Presets and what they cost".
PRESETS = {
    "paper": {
        "summary": "official schedule at 224 px (5 variants, 18k steps from noise), then full resolution",
        "overrides": {},
    },
    "standard": {
        "summary": "3 variants at full resolution, MAGIC at 224 px for 1,500 steps: a GPU or a patient CPU",
        "overrides": {
            "variants": 3,
            "iterations": 1500,
            "init": "copy",
            "init_std": 0.0,
            "learning_rate": 0.01,
            "mask_net_width": 32,
            "mask_net_training": "upfront",
            "mask_net_steps": 400,
            "critic_width": 16,
            "gradient_penalty_fraction": 0.5,
        },
    },
    "preview": {
        "summary": "3 variants at full resolution, MAGIC at 128 px for 300 steps: about a minute on a CPU",
        "overrides": {
            "variants": 3,
            "size": 128,
            "iterations": 300,
            "init": "copy",
            "init_std": 0.0,
            "learning_rate": 0.01,
            "mask_net_width": 32,
            "mask_net_training": "upfront",
            "mask_net_steps": 200,
            "critic_width": 16,
            "gradient_penalty_fraction": 0.5,
        },
    },
    "tiny": {
        "summary": "smoke tests only: 2 variants, MAGIC at 48 px for 12 steps (results are meaningless)",
        "overrides": {
            "variants": 2,
            "size": 48,
            "iterations": 12,
            "warmup_steps": 2,
            "mask_net_width": 8,
            "mask_net_training": "upfront",
            "mask_net_steps": 4,
            "critic_width": 8,
            "min_side": 32,
            "refine_iterations": 1,
            "patchmatch_iterations": 1,
        },
    },
}
PRESET_NAMES = tuple(PRESETS)
assert PRESET_NAMES == choices.PRESET_NAMES, "magic_common.choices names the presets"

# Starting images x'0, see init.py.
INIT_CHOICES = ("noise", "copy", "input")


@dataclass(frozen=True)
class MagicConfig:
    """Every knob of one MAGIC run. Build with `make_config`."""

    mode: str = "shape"
    preset: str = "paper"

    # Batch, resolution, schedule of the image optimisation.
    variants: int = 5  # batch size: one run gives this many diverse results
    size: int = 224  # level 0, where the classifier works: the region scaled to about size*size pixels
    min_side: int = 64  # no side of level 0 is smaller (ResNet needs room)
    iterations: int = 18000
    learning_rate: float = 0.2
    adam_betas: tuple = (0.9, 0.999)
    warmup_steps: int = 100  # linear warm-up, then cosine decay to 0
    # Starting images (see init.py): "noise" (official), "copy" or "input",
    # plus N(0, init_std) noise in normalised space.
    init: str = "noise"
    init_std: float = 1.0

    # Loss weights (official values; the mode sets the TV and adversarial ones).
    class_weight: float = 1.0
    tv_l1_weight: float = 0.0
    tv_l2_weight: float = 1e-4
    l2_weight: float = 1e-5
    feature_stats_weight: float = 500.0  # per layer (official: 5 * 100)
    # Feature maps whose mean/std are matched: the last map at each of the
    # classifier's first resolution levels. For a ResNet, levels 0-3 are the
    # stem (before max-pool), layer1, layer2 and layer3, as in the official code.
    feature_levels: tuple = (0, 1, 2, 3)
    mask_weight: float = 30.0
    adversarial_weight: float = 0.05

    # Patch critic (WGAN-GP).
    critic_start: float = 5000 / 18000  # fraction of iterations before it joins
    critic_every: int = 5  # one critic update per this many image steps
    critic_learning_rate: float = 5e-4
    critic_betas: tuple = (0.5, 0.999)
    gradient_penalty_weight: float = 0.1
    # The penalty is taken on a random window this fraction of each side
    # (losses.critic_loss); 1: the whole image, as the official code.
    gradient_penalty_fraction: float = 1.0
    critic_width: int = 32  # official nfc; layers use 2*w and 4*w channels

    # Image-to-mask network ("Patch AE" in the paper).
    mask_net_width: int = 64
    mask_net_learning_rate: float = 5e-4
    mask_net_betas: tuple = (0.5, 0.999)
    # "interleaved": one update per image step while step < mask_net_steps
    # (official). "upfront": all updates before the image optimisation starts.
    mask_net_training: str = "interleaved"
    mask_net_steps: int = 10000

    # Region of the input that is worked on, and how results are blended back.
    context_margin: float = CONTEXT_MARGIN  # margin around both masks, fraction of their box's long side
    min_context: int = MIN_CONTEXT  # ... but at least this many pixels
    edit_dilation: float = 0.02  # the edit area: both masks grown by this fraction of region.object_diagonal (at least 3 px beyond the feather)
    edit_feather: float = 0.006  # blend over this fraction of the same diagonal, inside the edit area
    max_image_pixels: int = MAX_IMAGE_PIXELS  # refuse larger inputs (memory)

    # From level 0 to the photo's resolution (refine.py): the photo's own
    # patches, searched and voted at every finer level.
    fill_noise: float = 0.05  # noise on the first guess of the hole fill ("copy" start)
    refine_iterations: int = 3  # search-and-vote rounds per level
    patchmatch_iterations: int = 3  # propagation + random search rounds per search
    max_refine_pixels: int = 50_000_000  # levels larger than this (region pixels) are carried, not searched
    patch_dims: int = 24  # PCA dimensions of a 7x7 RGB patch
    # In a level's last vote only patches centred this close count (0-3);
    # 0: each pixel copies its own match, which keeps the photo's grain.
    vote_reach: int = 0
    # In the refinement's search an object patch's own correspondence (where
    # the warp of the source into the target takes it from) counts
    # (1 - object_coherence) times its distance: another patch must be 25 %
    # closer to win at 0.25, 10x closer at 0.9. Higher keeps the object's
    # stretch, lower lets the photo's patches rebuild it (see MODE_SETTINGS).
    # Below 1: at 1 the correspondence would tie with an exact copy.
    object_coherence: float = 0.25

    # Speed. "auto": bf16 where the device has fast bf16, else fp32.
    precision: str = "auto"
    channels_last: bool = True

    # Reporting.
    preview_every: int = 0  # 0: about 20 previews per run

    @property
    def critic_start_step(self) -> int:
        return int(round(self.critic_start * self.iterations))

    @property
    def interleaved_mask_net_steps(self) -> int:
        return self.mask_net_steps if self.mask_net_training == "interleaved" else 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> "MagicConfig":
        """A copy with some fields changed (checked). To switch mode or
        preset, use `make_config`, which also applies their weights."""
        cfg = dataclasses.replace(self, **changes)
        _check(cfg)
        return cfg


def _check(cfg: MagicConfig) -> None:
    problems = []
    if cfg.mode not in MODE_SETTINGS:
        problems.append(f"mode {cfg.mode!r} is not one of {', '.join(MODES)}")
    if cfg.preset not in PRESETS:
        problems.append(f"preset {cfg.preset!r} is not one of {', '.join(PRESET_NAMES)}")
    low, high = choices.VARIANTS
    if not low <= cfg.variants <= high:
        problems.append(f"variants must be {low}..{high}, got {cfg.variants}")
    low, high = choices.WORK_SIZE
    if not low <= cfg.size <= high:
        problems.append(f"size must be {low}..{high} px, got {cfg.size}")
    if not 32 <= cfg.min_side <= cfg.size:
        problems.append(f"min_side must be 32..size, got {cfg.min_side}")
    low, high = choices.ITERATIONS
    if not low <= cfg.iterations <= high:
        problems.append(f"iterations must be {low}..{high}, got {cfg.iterations}")
    if cfg.init not in INIT_CHOICES:
        problems.append(f"init must be one of {', '.join(INIT_CHOICES)}, got {cfg.init!r}")
    if cfg.init_std < 0:
        problems.append("init_std must be >= 0")
    if cfg.warmup_steps < 0:
        problems.append("warmup_steps must be >= 0")
    if not 0.0 < cfg.gradient_penalty_fraction <= 1.0:
        problems.append("gradient_penalty_fraction is a fraction of each side, 0 < f <= 1")
    if cfg.critic_every < 1:
        problems.append("critic_every must be >= 1")
    if not 0.0 <= cfg.critic_start <= 1.0:
        problems.append("critic_start is a fraction of iterations, 0..1")
    if cfg.mask_net_training not in ("interleaved", "upfront"):
        problems.append("mask_net_training must be 'interleaved' or 'upfront'")
    if cfg.mask_net_steps < 1:
        problems.append("mask_net_steps must be >= 1")
    if cfg.mask_net_width < 1 or cfg.critic_width < 1:
        problems.append("network widths must be >= 1")
    if cfg.refine_iterations < 1 or cfg.patchmatch_iterations < 1:
        problems.append("refine_iterations and patchmatch_iterations must be >= 1")
    if cfg.max_refine_pixels < 1:
        problems.append("max_refine_pixels must be >= 1")
    if not 0 <= cfg.object_coherence < 1:
        problems.append(f"object_coherence must be at least 0 and below 1, got {cfg.object_coherence}")
    if not 0 <= cfg.vote_reach <= 3:
        problems.append("vote_reach must be 0..3 (the patch radius)")
    if not 1 <= cfg.patch_dims <= 147:
        problems.append("patch_dims must be 1..147 (a 7x7 RGB patch has 147 values)")
    if cfg.fill_noise < 0:
        problems.append("fill_noise must be >= 0")
    if cfg.precision not in ("auto", "fp32", "bf16", "fp16"):
        problems.append("precision must be auto, fp32, bf16 or fp16")
    if any(not 0 <= level <= 3 for level in cfg.feature_levels):
        problems.append(f"feature_levels must be within 0..3, got {cfg.feature_levels}")
    if problems:
        raise ConfigError("invalid MAGIC config: " + "; ".join(problems))


def make_config(preset: str = choices.DEFAULT_PRESET, mode: str = choices.DEFAULT_MODE, **overrides) -> MagicConfig:
    """Config for `preset` and `mode`, with any field overridden by keyword.

    Unknown field names are an error, so a typo never passes silently.
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}")
    if mode not in MODE_SETTINGS:
        raise ConfigError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    names = {f.name for f in dataclasses.fields(MagicConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
    values = dict(PRESETS[preset]["overrides"])
    values.update(MODE_SETTINGS[mode])
    values.update({"preset": preset, "mode": mode})
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("adam_betas", "critic_betas", "mask_net_betas", "feature_levels"):
        if key in values:
            values[key] = tuple(values[key])
    cfg = MagicConfig(**values)
    _check(cfg)
    return cfg


def preset_summaries() -> dict:
    """Preset name -> summary and the main numbers, for `hello` and --help."""
    out = {}
    for name in PRESET_NAMES:
        cfg = make_config(name)
        out[name] = {
            "summary": PRESETS[name]["summary"],
            "variants": cfg.variants,
            "size": cfg.size,
            "iterations": cfg.iterations,
        }
    return out
