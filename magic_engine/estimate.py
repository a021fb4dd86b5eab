"""How long a run will take: every prediction of the engine's time lives here.

A run's time is three parts (`RunTimes` in the report of `synthesize`):

    fixed       the starting images and the upfront mask network
    steps       iterations x seconds per step at level 0 (the preset's own
                working size, whatever the region's size)
    refinement  patch search and vote up to the region's resolution

Before a run, `predict_seconds` carries a `CostSample` (those parts as one
run measured them, from a real job's report or from `probe`: the preset's
real engine, a few steps on a synthetic photo) to another region and
another number of iterations, the refinement in proportion to the
region's pixels (all a client knows before it sends). During a run,
`refine_seconds` predicts the refinement from the pixels it edits, level
by level, at the rate the copy start's own hole fill, the same work, just
measured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .config import MagicConfig, make_config
from .fill import FILL_ITERATIONS

PROBE_STEPS = 6  # enough for the critic and all terms to run; the first steps carry the warm-up
PROBE_RUNS = 2  # each part is kept at its fastest (`_fastest_parts`)
# Width, height of the probe's photo. For preview (level 0 at 128 px) its region has
# a finer level above level 0; for the 224 px presets it is level 0 alone, so
# their refinement rate is that of level 0 until a real job replaces the figure.
PROBE_SIZE = (192, 144)
REFINE_SECONDS_PER_PIXEL_ROUND = 5e-7  # a 2-core CPU's rate; only used without a copy start to learn it from
# A refinement round costs this share of a hole-fill round per pixel (fitted on
# eight evaluation cases cropped to their region, 2026-12-06).
FILL_TO_REFINE = 0.08


@dataclass
class CostSample:
    variants: int
    fixed_s: float
    seconds_per_step: float
    refine_s: float
    region_pixels: int

    @classmethod
    def from_report(cls, report: dict) -> "CostSample":
        _, _, width, height = report["region"]["box"]
        refine = report.get("refine") or {}
        return cls(variants=int(report["config"]["variants"]),
                   fixed_s=float(report.get("start_seconds", 0.0)) + float(report.get("mask_net_seconds", 0.0)),
                   seconds_per_step=float(report["seconds_per_step"]),
                   refine_s=float(refine.get("seconds", 0.0)),
                   region_pixels=max(1, int(width) * int(height)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CostSample":
        return cls(int(data["variants"]), float(data["fixed_s"]), float(data["seconds_per_step"]),
                   float(data["refine_s"]), max(1, int(data["region_pixels"])))


def predict_seconds(sample: CostSample, config: MagicConfig, region_width: int, region_height: int) -> float:
    """Seconds for `config` on a region_width x region_height region, from a
    sample measured with the same preset on the same device. The batch of
    variants shares every step, so more variants cost in proportion only on
    a device without spare parallel width; this keeps the sample's ratio."""
    per_variant = config.variants / max(1, sample.variants)
    pixels = region_width * region_height
    refine = sample.refine_s * pixels / sample.region_pixels
    return sample.fixed_s + config.iterations * sample.seconds_per_step + refine * per_variant


def refine_seconds(config: MagicConfig, levels: list, edited_pixels: float, start_edited_pixels: float,
                   start_seconds: float) -> float:
    """Seconds the refinement of a run will take, predicted when its starting images are made.

    levels: the run's `Level`s; edited_pixels: the pixels the results may
    change, at the region's resolution; start_edited_pixels: the same at
    level 0, where the copy start filled the hole in `start_seconds`.
    The refinement and the copy start's hole fill are the same work, rounds
    of search and vote over edited pixels, so the start's measured cost per
    pixel-round carries over; other starts assume REFINE_SECONDS_PER_PIXEL_ROUND.
    The fill's cost grows with the hole, not with the frame of surroundings
    it searches, so a crop that is just the region (what the plug-in sends)
    and a whole photo are estimated alike. With FILL_TO_REFINE it predicted
    the refinement of eight cases sent as the plug-in sends them within
    0.76x..1.15x and the 3840x2560 flower photo whole at 1.40x (2026-12-06);
    a shape case, whose refinement does more per pixel, at 0.40x (2 s of 36).
    The report gives the estimate beside the measured time.
    """
    rounds = config.variants * config.refine_iterations * sum(edited_pixels * level.scale ** 2 for level in levels)
    rate = REFINE_SECONDS_PER_PIXEL_ROUND
    if config.init == "copy" and start_seconds > 0:
        fill_rounds = config.variants * FILL_ITERATIONS * max(1.0, start_edited_pixels)
        rate = FILL_TO_REFINE * start_seconds / fill_rounds
    return rate * rounds


def _probe_photo(width: int, height: int, seed: int = 0):
    """A textured photo with a round object on the left and its target on the right."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([90 + 40 * np.sin(xx / 5.0), 120 + 30 * np.cos(yy / 7.0), 80 + 20 * np.sin((xx + yy) / 9.0)], 2)
    photo = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    radius = height // 5
    source = ((xx - width // 4) ** 2 + (yy - height // 2) ** 2 < radius ** 2)
    target = ((xx - 3 * width // 4) ** 2 + (yy - height // 2) ** 2 < radius ** 2)
    photo[source] = (200, 60, 50)
    return photo, (source * 255).astype(np.uint8), (target * 255).astype(np.uint8)


def probe(config: MagicConfig, classifier, device, cancel=None, warm_up: bool = True) -> CostSample:
    """Measure `config`'s preset on `device`: the real engine for PROBE_STEPS
    steps on a small synthetic photo, PROBE_RUNS times. Costs up to about 20 s a preset
    on a 2-core CPU.

    The first run in a process pays for torch's own start (kernels chosen,
    memory pools filled: 4x slower steps on a CPU), so `warm_up` runs the
    tiny preset once first."""
    from .synthesis import synthesize  # synthesis imports the whole engine; only a probe needs it

    photo, source, target = _probe_photo(*PROBE_SIZE)
    if warm_up:
        synthesize(photo, source, target, make_config("tiny", config.mode), classifier=classifier, device=device,
                   seed=0, cancel=cancel)
    short = config.replace(iterations=PROBE_STEPS, warmup_steps=min(config.warmup_steps, 1),
                           mask_net_steps=min(config.mask_net_steps, 4 * PROBE_STEPS))
    samples = []
    for _ in range(PROBE_RUNS):
        result = synthesize(photo, source, target, short, classifier=classifier, device=device, seed=0,
                            cancel=cancel)
        sample = CostSample.from_report(result.report.to_dict())
        # The upfront mask network ran fewer steps than the preset's: scale its share back up.
        if short.mask_net_steps:
            sample.fixed_s += result.report.times.mask_net * (config.mask_net_steps / short.mask_net_steps - 1.0)
        samples.append(sample)
    return _fastest_parts(samples)


def _fastest_parts(samples: list) -> CostSample:
    """Each part at its fastest over the runs: other work on the machine only ever
    adds time, and the few steps a probe times multiply a pause in them by the
    preset's hundreds (a pause of seconds can make preview look slower than standard)."""
    first = samples[0]
    return CostSample(variants=first.variants, fixed_s=min(s.fixed_s for s in samples),
                      seconds_per_step=min(s.seconds_per_step for s in samples),
                      refine_s=min(s.refine_s for s in samples), region_pixels=first.region_pixels)
