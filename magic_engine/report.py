"""What one run did and measured, as `synthesize` returns it and report.json holds it."""

from __future__ import annotations

from dataclasses import dataclass, field

from magic_common import __version__

from .config import MagicConfig
from .refine import RefineReport
from .region import Box, region_report


@dataclass
class RunTimes:
    """Seconds each part of a run took, and what the refinement was predicted to take
    before it began (the progress estimate's; estimate.py's cost model reads them)."""

    mask_net: float = 0.0  # the upfront image-to-mask network
    start: float = 0.0  # the starting images (the copy start's hole fill)
    per_step: float = 0.0  # one optimisation step at level 0
    refine_estimate: float = 0.0  # the refinement, as predicted before it began
    total: float = 0.0


@dataclass
class RunReport:
    config: MagicConfig
    seed: int
    classifier: str  # its description: "random resnet50", a checkpoint's name
    classifier_warning: str | None
    device: str
    precision: str  # "fp32", "bfloat16", "float16"
    image_size: tuple  # (width, height) of the photo
    region: Box  # where the engine works, in the photo
    levels: list  # Level per scale, level 0 (the classifier's) first
    refine: RefineReport
    times: RunTimes
    final_losses: dict  # term -> value at the last step
    mask_net_fit_iou: float  # how well the image-to-mask network learned the object on the input itself
    edited_fraction: float  # share of the photo's pixels the results may change
    notes: list = field(default_factory=list)  # sentences for the user
    engine_version: str = __version__

    def to_dict(self) -> dict:
        """The JSON form (report.json, the server's `done` event): its keys are
        the protocol's, read by the server's estimates and by clients."""
        return {
            "engine_version": self.engine_version,
            "config": self.config.to_dict(),
            "seed": self.seed,
            "classifier": self.classifier,
            "classifier_warning": self.classifier_warning,
            "device": self.device,
            "precision": self.precision,
            "image_size": list(self.image_size),
            "region": region_report(self.region),
            "levels": [[level.width, level.height] for level in self.levels],
            "refine": {**self.refine.to_dict(), "estimated_seconds": round(self.times.refine_estimate, 3)},
            "notes": list(self.notes),
            "start_seconds": round(self.times.start, 3),
            "mask_net_seconds": round(self.times.mask_net, 3),
            "seconds_per_step": round(self.times.per_step, 4),
            "total_seconds": round(self.times.total, 3),
            "final_losses": dict(self.final_losses),
            "mask_net_fit_iou": round(self.mask_net_fit_iou, 4),
            "edited_fraction": self.edited_fraction,
        }

