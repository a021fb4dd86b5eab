"""The evaluation loop: run the engine and both baselines on every case, score
them, and write report.json, table.md and sheet.png.

All figures are computed on the engine's region of each case (the crop the
engine works on), scaled so its long side is at most EVAL_LONG_SIDE px, so
cases of different sizes weigh alike. The baselines are scored on the same
crop and the same pixel sets. The outputs are rewritten after every case, so
an interrupted run keeps what it finished.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .. import __version__
from ..classifier import RandomClassifierWarning, load_classifier
from ..config import make_config
from ..devices import resolve_device
from ..progress import TerminalProgressBar
from ..region import Region, resize_image, resize_mask
from ..synthesis import synthesize
from .adherence import PixelClassifier, fit_pixel_classifier, mask_adherence
from .baselines import copy_paste, uniform_noise
from .cases import Case
from .diversity import mean_pairwise_difference
from .fidelity import patch_distance
from .sheet import SOURCE_COLOUR, TARGET_COLOUR, Tile, make_sheet, mask_overlay

EVAL_LONG_SIDE = 256
METHODS = ("magic", "copy_paste", "noise")
METHOD_LABELS = {"magic": "MAGIC", "copy_paste": "copy-paste", "noise": "noise"}
FIGURES = ("mask_iou", "swd_object", "swd_background")


@dataclass
class EvalView:
    """The engine's region of a case, at evaluation resolution."""

    region: Region
    width: int
    height: int

    @classmethod
    def of(cls, region: Region) -> "EvalView":
        scale = min(1.0, EVAL_LONG_SIDE / max(region.width, region.height))
        return cls(region, max(8, round(region.width * scale)), max(8, round(region.height * scale)))

    def image(self, full: np.ndarray) -> np.ndarray:
        return resize_image(np.ascontiguousarray(full[self.region.slices][..., :3]), self.width, self.height)

    def mask(self, full: np.ndarray) -> np.ndarray:
        """bool crop of a bool mask or 0..1 weights: in where at least half of what it covers was."""
        return resize_mask(full[self.region.slices], self.width, self.height)


@dataclass
class CaseReference:
    """What every method of a case is scored against."""

    view: EvalView
    image: np.ndarray  # input crop
    source: np.ndarray  # bool crops
    target: np.ndarray
    edited: np.ndarray  # where the engine may change pixels
    classifier: PixelClassifier
    classifier_fit_iou: float  # how well it finds the source object on the input itself


def make_reference(case: Case, region: Region, edit_weights: np.ndarray) -> CaseReference:
    view = EvalView.of(region)
    image, source = view.image(case.image), view.mask(case.source)
    classifier = fit_pixel_classifier(image, source, seed=0)
    return CaseReference(view, image, source, view.mask(case.target), view.mask(edit_weights) | source,
                         classifier, mask_adherence(classifier, image, source))


def score_results(reference: CaseReference, results: list) -> dict:
    """Figures for one method's full-size results (list of uint8 H, W, 3)."""
    crops = [reference.view.image(r) for r in results]
    # Background of a result: the edited pixels outside the target (the vacated
    # source area and the blend band around the masks). It is compared with the
    # input's edited pixels outside both masks: the untouched surroundings that
    # the vacated area must blend into. A result equal to the input scores ~0.
    result_background = reference.edited & ~reference.target
    input_background = reference.edited & ~(reference.source | reference.target)
    per_result = []
    for crop in crops:
        per_result.append({
            "mask_iou": mask_adherence(reference.classifier, crop, reference.target),
            "swd_object": patch_distance(crop, reference.target, reference.image, reference.source),
            "swd_background": patch_distance(crop, result_background, reference.image, input_background),
        })
    scores = {name: _mean([r[name] for r in per_result]) for name in FIGURES}
    scores["diversity"] = mean_pairwise_difference(crops, reference.edited)
    scores["results"] = len(results)
    scores["per_result"] = per_result
    return scores


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def evaluate_case(case: Case, config, classifier, device: str, seed: int, out_dir: Path, log) -> dict:
    """Run the engine and the baselines on one case; save their images; return its report entry."""
    started = time.perf_counter()
    result = synthesize(case.image, case.source, case.target,
                        config, classifier=classifier, device=device, seed=seed,
                        progress=TerminalProgressBar())
    engine_seconds = time.perf_counter() - started
    magic = [c[..., :3] for c in result.composites]

    seconds = {"magic": engine_seconds}
    clock = time.perf_counter()
    pasted = [copy_paste(case.image, case.source, case.target)]
    seconds["copy_paste"] = time.perf_counter() - clock
    clock = time.perf_counter()
    weights = result.edit_mask.astype(np.float32) / 255
    noise = [uniform_noise(case.image, weights, seed=seed * 1000 + i) for i in range(len(magic))]
    seconds["noise"] = time.perf_counter() - clock

    metrics_started = time.perf_counter()
    reference = make_reference(case, result.region, weights)
    outputs = {"magic": magic, "copy_paste": pasted, "noise": noise}
    methods = {name: score_results(reference, images) for name, images in outputs.items()}
    for name in methods:
        methods[name]["seconds"] = round(seconds[name], 3)
    metrics_seconds = time.perf_counter() - metrics_started

    case_dir = out_dir / case.name
    case_dir.mkdir(parents=True, exist_ok=True)
    for name, images in outputs.items():
        for i, image in enumerate(images, 1):
            suffix = f"-{i}" if len(images) > 1 else ""
            Image.fromarray(image).save(case_dir / f"{name.replace('_', '-')}{suffix}.png")
    log(f"  engine {engine_seconds:.1f} s, baselines {seconds['copy_paste'] + seconds['noise']:.1f} s, "
        f"metrics {metrics_seconds:.1f} s")
    return {
        "name": case.name,
        "mode": case.mode,
        "description": case.description,
        "source": case.provenance,
        "image_size": [case.image.shape[1], case.image.shape[0]],
        "region": result.region.to_dict(),
        "evaluation_size": [reference.view.width, reference.view.height],
        "classifier_fit_iou": reference.classifier_fit_iou,
        "methods": methods,
        "engine_report": result.report,
        "_sheet_row": _sheet_row(case, reference, outputs, methods),  # dropped from report.json
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _fmt(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _figure_lines(scores: dict) -> list:
    return [f"IoU {_fmt(scores['mask_iou'], 2)}",
            f"SWD obj {_fmt(scores['swd_object'], 3)} bg {_fmt(scores['swd_background'], 3)}"]


def _sheet_row(case: Case, reference: CaseReference, outputs: dict, methods: dict) -> list:
    """Input with masks, every engine variant, the copy-paste result, the first noise result.
    Tiles show the engine's region at full resolution; captions hold that image's figures."""
    ys, xs = reference.view.region.slices

    def crop(image):
        return image[ys, xs]

    overlay = mask_overlay(crop(case.image), [(crop(case.source), SOURCE_COLOUR), (crop(case.target), TARGET_COLOUR)])
    row = [Tile(overlay, case.name, [f"mode: {case.mode}", "red: source, blue: target",
                                      f"classifier fit IoU {reference.classifier_fit_iou:.2f}"])]
    for name in METHODS:
        images = outputs[name] if name == "magic" else outputs[name][:1]
        for i, image in enumerate(images):
            per = methods[name]["per_result"][i]
            label = METHOD_LABELS[name] + (f" {i + 1}" if name == "magic" else "")
            caption = _figure_lines(per)
            if i == 0 and methods[name]["diversity"] is not None:
                caption.append(f"diversity {methods[name]['diversity']:.3f}")
            row.append(Tile(crop(image), label, caption))
    return row


def summarise(case_reports: list) -> dict:
    """Per method, the mean of each figure over the cases that have it."""
    summary = {}
    for name in METHODS:
        summary[name] = {figure: _mean([c["methods"][name][figure] for c in case_reports])
                         for figure in FIGURES + ("diversity",)}
    return summary


def markdown_table(report: dict) -> str:
    settings = report["settings"]
    preset = f"Preset `{settings['preset']}`"
    if report["cases"]:
        cfg = report["cases"][0]["engine_report"]["config"]
        preset += (f" ({cfg['variants']} variants, {cfg['size']} px, {cfg['iterations']} steps, "
                   f"start {cfg['init']}, lr {cfg['learning_rate']})")
    lines = [
        f"{preset}, classifier `{settings['classifier']}`, device `{settings['device']}`, "
        f"seed {settings['seed']}, engine {report['engine_version']}; "
        f"{_count(len(report['cases']), 'case')} in {report['total_seconds'] / 60:.1f} min.",
        "",
        "| case | method | mask IoU ↑ | patch SWD object ↓ | patch SWD background ↓ | diversity | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]

    def row(first, name, scores, seconds):
        return (f"| {first} | {METHOD_LABELS[name]} | {_fmt(scores['mask_iou'], 3)} | "
                f"{_fmt(scores['swd_object'], 4)} | {_fmt(scores['swd_background'], 4)} | "
                f"{_fmt(scores['diversity'], 3)} | {seconds} |")

    for case in report["cases"]:
        for name in METHODS:
            first = f"{case['name']} ({case['mode']})" if name == "magic" else ""
            lines.append(row(first, name, case["methods"][name], _fmt(case["methods"][name]["seconds"], 1)))
    if len(report["cases"]) > 1:
        for name in METHODS:
            first = f"**mean of {len(report['cases'])} cases**" if name == "magic" else ""
            lines.append(row(first, name, report["summary"][name], ""))
    if settings.get("classifier_warning"):
        lines += ["", f"Warning: {settings['classifier_warning']}"]
    lines += [
        "",
        "mask IoU: a per-pixel object/background classifier fitted on the input (source mask as labels) "
        "is applied to each result; IoU of its object pixels with the target mask (1 is best). "
        "patch SWD: sliced Wasserstein distance between 7x7 RGB patches of the result and of the input, "
        "object = inside the target (result) / source (input) mask, background = edited pixels outside "
        "the target (result) / edited pixels outside both masks (input); 0 is best. diversity: mean absolute RGB "
        "difference (0..1) between pairs of variants over the edited pixels. All on the engine's region, "
        f"long side scaled to at most {EVAL_LONG_SIDE} px. copy-paste gives one result (no diversity); "
        "noise fills the edited pixels with uniform noise.",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(report: dict, rows: list, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "table.md").write_text(markdown_table(report))
    settings = report["settings"]
    title = (f"MAGIC evaluation: preset {settings['preset']}, classifier {settings['classifier']}, "
             f"{settings['device']}. IoU higher is better, SWD lower is better.")
    make_sheet(rows, title=title).save(out_dir / "sheet.png", optimize=True)


def run_evaluation(cases: list, out_dir, preset: str = "preview", classifier: str = "auto",
                   device: str = "auto", seed: int = 0, variants: int | None = None,
                   iterations: int | None = None, log=None, overrides: dict | None = None) -> dict:
    """Evaluate every case; write the outputs into `out_dir`; return the report."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out_dir = Path(out_dir)
    started = time.perf_counter()
    device = str(resolve_device(device))
    with warnings.catch_warnings():
        # The engine also logs this warning; it goes into the report and table instead of twice on screen.
        warnings.simplefilter("ignore", RandomClassifierWarning)
        engine_classifier = load_classifier(classifier, device=device)
    report = {
        "engine_version": __version__,
        "settings": {"preset": preset, "classifier": engine_classifier.description,
                     "classifier_warning": engine_classifier.warning, "device": device, "seed": seed,
                     "variants": variants, "iterations": iterations, "overrides": overrides or {},
                     "evaluation_long_side": EVAL_LONG_SIDE},
        "cases": [],
        "summary": {},
        "total_seconds": 0.0,
    }
    rows = []
    for number, case in enumerate(cases, 1):
        config = make_config(preset, case.mode, variants=variants, iterations=iterations, **(overrides or {}))
        log(f"[{number}/{len(cases)}] {case.name} ({case.mode}, {case.image.shape[1]}x{case.image.shape[0]} px)")
        case_started = time.perf_counter()
        entry = evaluate_case(case, config, engine_classifier, device, seed, out_dir, log)
        rows.append(entry.pop("_sheet_row"))
        entry["seconds"] = round(time.perf_counter() - case_started, 2)
        report["cases"].append(entry)
        report["summary"] = summarise(report["cases"])
        report["total_seconds"] = round(time.perf_counter() - started, 2)
        write_outputs(report, rows, out_dir)
        log(f"  case done in {entry['seconds']:.1f} s")
    log(f"{_count(len(cases), 'case')} in {report['total_seconds'] / 60:.1f} min; wrote {out_dir / 'report.json'}, "
        f"{out_dir / 'table.md'}, {out_dir / 'sheet.png'}")
    return report
