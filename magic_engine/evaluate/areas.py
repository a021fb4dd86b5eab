"""The pixel sets a case is scored on, and the scoring of one result against them.

Everything is cropped to the engine's region and kept at full resolution:

- object: the target mask in a result, the source mask in the input;
- vacated: what the object leaves (source minus target), the "hole";
- surroundings: the input's background around the hole (detail.surroundings);
- background: the engine's edit area outside the target in a result, outside
  both masks in the input (the band of real background next to the edit);
- the move: for a position case, the shift that takes the source onto the
  target, so a moved object's pixels can be compared with its own (intact.py);
- freedom: where variants may differ: the hole, or for a pure reshape (no
  hole) the new area (target minus source); how much the photo itself varies
  there (diversity.photo_variation) is measured on the hole's surroundings,
  or on the object for a reshape.

All methods are scored on the same sets, taken from the engine's edit area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..region import Box
from .adherence import PixelClassifier, fit_pixel_classifier, mask_adherence
from .cases import Case
from .detail import MIN_HOLE_SHARE, MIN_PIXELS, amplitude, high_pass, ratio, surroundings
from .diversity import mean_pairwise_difference, photo_variation
from .fidelity import patch_distance
from .intact import is_box_stretch, move_shift, object_intact


@dataclass
class CaseAreas:
    case: Case
    region: Box
    image: np.ndarray  # the input's region, uint8 (h, w, 3)
    source: np.ndarray
    target: np.ndarray
    vacated: np.ndarray
    ring: np.ndarray
    result_background: np.ndarray
    input_background: np.ndarray
    freedom: np.ndarray
    classifier: PixelClassifier
    classifier_fit_iou: float
    object_amplitude: float | None  # the input's, inside the source
    ring_amplitude: float | None  # the input's, around the hole
    freedom_variation: float | None  # the input's own variation where variants may differ
    shift: tuple | None  # (dy, dx) of a move (the target is the source shifted), else None
    stretch: bool  # the target is the source scaled to its box (intact.is_box_stretch)

    @classmethod
    def of(cls, case: Case, region: Box, engine_edit: np.ndarray) -> "CaseAreas":
        ys, xs = region.slices
        image = np.ascontiguousarray(case.image[ys, xs, :3])
        source, target, edit = case.source[ys, xs], case.target[ys, xs], engine_edit[ys, xs]
        vacated = source & ~target
        has_hole = np.count_nonzero(vacated) >= max(MIN_PIXELS, MIN_HOLE_SHARE * np.count_nonzero(source))
        ring = surroundings(vacated, source | target) if has_hole else np.zeros_like(source)
        new_area = target & ~source
        freedom = vacated if has_hole else new_area
        classifier = fit_pixel_classifier(image, source, seed=0)
        high = high_pass(image)
        return cls(case, region, image, source, target, vacated, ring, edit & ~target, edit & ~(source | target),
                   freedom, classifier, mask_adherence(classifier, image, source),
                   amplitude(image, source, high), amplitude(image, ring, high) if has_hole else None,
                   photo_variation(image, ring if has_hole else source),
                   move_shift(case.source, case.target) if case.mode == "position" else None,
                   is_box_stretch(case.source, case.target))

    def score(self, result: np.ndarray, changed: np.ndarray) -> dict:
        """Figures of one full-size result; `changed`: the pixels its method says it edits."""
        ys, xs = self.region.slices
        crop = np.ascontiguousarray(result[ys, xs, :3])
        high = high_pass(crop)
        differs = np.any(result[..., :3] != self.case.image[..., :3], axis=2)
        return {
            "mask_iou": mask_adherence(self.classifier, crop, self.target),
            "object_intact": object_intact(self.case.image, result, self.case.source, self.case.target, self.shift),
            "object_detail": ratio(amplitude(crop, self.target, high), self.object_amplitude),
            "hole_texture": ratio(amplitude(crop, self.vacated, high), self.ring_amplitude)
            if self.ring_amplitude else None,
            "swd_object": patch_distance(crop, self.target, self.image, self.source),
            "swd_background": patch_distance(crop, self.result_background, self.image, self.input_background),
            "changed_outside": int(np.count_nonzero(differs & ~changed)),
        }

    def diversity(self, results: list) -> float | None:
        if not self.freedom.any():
            return None
        ys, xs = self.region.slices
        return mean_pairwise_difference([r[ys, xs] for r in results], self.freedom)

    def counts(self) -> dict:
        return {name: int(np.count_nonzero(getattr(self, name))) for name in
                ("source", "target", "vacated", "ring", "result_background", "input_background", "freedom")}
