"""Measuring what the engine produces, independently of its own networks.

For each case (photo, source mask, target mask) the engine and three baselines
(paste + heal, the hand-made route; copy-paste; noise) are run and scored at
the photo's own resolution on:
  mask adherence   IoU of an input-trained pixel classifier's object pixels with the target mask
  object detail    high-pass amplitude of the moved/reshaped object against the original's
  hole texture     high-pass amplitude of the vacated area against its surroundings
  patch fidelity   sliced Wasserstein distance of 7x7 patches, object and background separately
  diversity        mean pairwise pixel difference between variants where they may differ
  changed outside  pixels changed outside the declared edit area (must be 0)

    python -m magic_engine.evaluate --cases examples/cases --out out/evaluate --preset preview
"""

from .adherence import PixelClassifier, fit_pixel_classifier, iou, mask_adherence
from .baselines import BaselineUnavailable, copy_paste, paste_and_heal, paste_object, uniform_noise
from .cases import Case, find_cases, load_case
from .diversity import mean_pairwise_difference
from .fidelity import patch_distance, patches_in_mask, sliced_wasserstein
from .run import run_evaluation
from .sheet import Tile, make_sheet, mask_overlay

__all__ = [
    "BaselineUnavailable", "Case", "PixelClassifier", "Tile", "copy_paste", "paste_and_heal", "paste_object",
    "find_cases", "fit_pixel_classifier", "iou",
    "load_case", "make_sheet", "mask_adherence", "mask_overlay", "mean_pairwise_difference",
    "patch_distance", "patches_in_mask", "run_evaluation", "sliced_wasserstein", "uniform_noise",
]
