"""`python -m magic_engine demo`: MAGIC on a bundled example, results plus a contact sheet.

Needs no GIMP, no GPU and no download: without installed weights the
classifier falls back to an untrained network (and says so loudly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from magic_common.choices import DEFAULT_PRESET

from .config import make_config
from .evaluate.cases import load_case
from .evaluate.sheet import SOURCE_COLOUR, TARGET_COLOUR, Tile, make_sheet, mask_overlay
from .progress import TerminalProgressBar, format_seconds
from .synthesis import synthesize

DEFAULT_CASE = Path(__file__).resolve().parent.parent / "examples" / "cases" / "demo-rocket-move"


def _zoom(image: np.ndarray, region, pad: int = 8) -> np.ndarray:
    """The engine's region of `image`, where all the change is."""
    top, left = max(0, region.top - pad), max(0, region.left - pad)
    return image[top:region.bottom + pad, left:region.right + pad]


def contact_sheet(case, result):
    overlay = mask_overlay(case.image, [(case.source, SOURCE_COLOUR), (case.target, TARGET_COLOUR)])
    report = result.report
    header = [f"mode {report.config.mode}, preset {report.config.preset}, seed {report.seed}",
              f"{report.classifier} on {report.device}, {format_seconds(report.times.total)}"]
    before = Tile(overlay, "input: source red, target blue", header)
    full_row = [before] + [Tile(c, f"result {i + 1}") for i, c in enumerate(result.composites)]
    zoom_row = [Tile(_zoom(overlay, result.region), "input (zoomed)")]
    zoom_row += [Tile(_zoom(c, result.region), f"result {i + 1} (zoomed)") for i, c in enumerate(result.composites)]
    title = f"MAGIC demo: {case.name}"
    if report.classifier_warning:
        title += "  (untrained classifier: install the weights for real results)"
    return make_sheet([full_row, zoom_row], title=title)


def run_demo(out_dir: Path, case_dir: Path = DEFAULT_CASE, preset: str = DEFAULT_PRESET, classifier: str = "auto",
             device: str = "auto", seed: int = 0, overrides: dict | None = None):
    case = load_case(case_dir)
    config = make_config(preset, case.mode, **(overrides or {}))
    print(f"MAGIC demo on {case.name} ({case.mode}): {case.description}")
    result = synthesize(case.image, case.source, case.target, config, classifier=classifier, device=device,
                        seed=seed, progress=TerminalProgressBar())
    written = result.save(out_dir)
    sheet_path = out_dir / "contact_sheet.png"
    contact_sheet(case, result).save(sheet_path)
    print(f"wrote {len(written)} files and the contact sheet {sheet_path} "
          f"in {format_seconds(result.report.times.total)}")
    return result, sheet_path
