"""The evaluation loop: run the engine and the baselines on every case, score
them at the photo's own resolution, and write report.json, table.md, sheet.png
(every case's region) and closeups.png (the hole and the object at 100 %).

Every figure is computed on the engine's region of each case, at full
resolution, on the same pixel sets for every method (areas.py). The outputs
are rewritten after every case, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from magic_common.choices import DEFAULT_PRESET

from .. import __version__
from ..classifier import RandomClassifierWarning, load_classifier
from ..config import make_config
from ..devices import resolve_device
from ..inputs import load_source
from ..progress import TerminalProgressBar
from ..region import edit_margins, mask_box, region_report
from ..synthesis import synthesize
from .areas import CaseAreas
from .baselines import BaselineUnavailable, copy_paste, paste_and_heal, uniform_noise
from .cases import Case
from .intact import move_shift
from .sheet import SOURCE_COLOUR, TARGET_COLOUR, Tile, make_sheet, mask_overlay
from .targets import against_paste_heal, check_targets

METHODS = ("magic", "paste_heal", "copy_paste", "noise")
METHOD_LABELS = {"magic": "MAGIC", "paste_heal": "paste + heal", "copy_paste": "copy-paste", "noise": "noise"}
FIGURES = ("mask_iou", "object_intact", "object_detail", "hole_texture", "swd_object", "swd_background", "diversity",
           "changed_outside")


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def score_results(areas: CaseAreas, results: list, edited: list) -> dict:
    """Figures for one method: `results` full-size uint8 images, `edited` the bool
    full-size masks of the pixels the method says it changed (one per result)."""
    per_result = [areas.score(image, changed) for image, changed in zip(results, edited)]
    scores = {name: _mean([r[name] for r in per_result]) for name in FIGURES if name != "diversity"}
    scores["changed_outside"] = int(max(r["changed_outside"] for r in per_result))
    scores["diversity"] = areas.diversity(results)
    scores["results"] = len(results)
    scores["per_result"] = per_result
    return scores


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def run_methods(case: Case, config, classifier, device: str, seed: int):
    """Every method's results on one case: {name: (images, changed masks, seconds)}, the engine's result."""
    # A source the engine takes as a matte goes to it (and to paste + heal) as it is.
    soft = case.source_values is not None and load_source(case.source_values, case.source.shape, [])[1] is not None
    source = case.source_values if soft else case.source
    result, seconds = _timed(lambda: synthesize(case.image, source, case.target, config, classifier=classifier,
                                                device=device, seed=seed, progress=TerminalProgressBar()))
    edit = result.edit_mask > 0
    outputs = {"magic": ([c[..., :3] for c in result.composites], [edit] * len(result.composites), seconds)}
    region = result.region
    box = (region.left, region.top, region.right, region.bottom)
    band, _ = edit_margins(case.source, case.target, config.edit_dilation, config.edit_feather,
                           config.context_margin, config.min_context)
    try:
        opacity = case.source_values.astype(np.float32) / 255 if soft else None
        shift = move_shift(case.source, case.target) if soft else None
        (healed, changed), seconds = _timed(lambda: paste_and_heal(case.image, case.source, case.target, box,
                                                                   band // 2, opacity, shift))
        outputs["paste_heal"] = ([healed], [changed], seconds)
    except BaselineUnavailable as exc:
        print(f"  skipping paste + heal: {exc}", file=sys.stderr)
    pasted, seconds = _timed(lambda: copy_paste(case.image, case.source, case.target))
    outputs["copy_paste"] = ([pasted], [np.any(pasted != case.image, axis=2)], seconds)
    weights = result.edit_mask.astype(np.float32) / 255
    noise, seconds = _timed(lambda: [uniform_noise(case.image, weights, seed=seed * 1000 + i)
                                     for i in range(len(result.composites))])
    outputs["noise"] = (noise, [edit] * len(noise), seconds)
    return outputs, result


def evaluate_case(case: Case, config, classifier, device: str, seed: int, out_dir: Path, log) -> dict:
    """Run the engine and the baselines on one case; save their images; return its report entry."""
    outputs, result = run_methods(case, config, classifier, device, seed)
    metrics_started = time.perf_counter()
    areas = CaseAreas.of(case, result.region, result.edit_mask > 0)
    methods = {}
    for name, (images, edited, seconds) in outputs.items():
        methods[name] = score_results(areas, images, edited)
        methods[name]["seconds"] = round(seconds, 3)
    metrics_seconds = time.perf_counter() - metrics_started

    case_dir = out_dir / case.name
    case_dir.mkdir(parents=True, exist_ok=True)
    for name, (images, _, _) in outputs.items():
        for i, image in enumerate(images, 1):
            suffix = f"-{i}" if len(images) > 1 else ""
            Image.fromarray(image).save(case_dir / f"{name.replace('_', '-')}{suffix}.png")
    log(f"  engine {methods['magic']['seconds']:.1f} s, metrics {metrics_seconds:.1f} s")
    return {
        "name": case.name,
        "mode": case.mode,
        "description": case.description,
        "source": case.provenance,
        "image_size": [case.image.shape[1], case.image.shape[0]],
        "region": region_report(result.region),
        "scored_pixels": areas.counts(),
        "photo_variation": areas.freedom_variation,
        "classifier_fit_iou": areas.classifier_fit_iou,
        "methods": methods,
        "targets": check_targets(case.mode, methods, areas.freedom_variation, areas.stretch),
        "against_paste_heal": against_paste_heal(methods),
        "engine_report": result.report.to_dict(),
        "_sheet_row": _sheet_row(case, areas, {n: o[0] for n, o in outputs.items()}, methods),
        "_closeup_row": _closeup_row(case, areas, {n: o[0] for n, o in outputs.items()}),
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _fmt(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _sheet_row(case: Case, areas: CaseAreas, outputs: dict, methods: dict) -> list:
    """Input with masks, every engine variant, paste + heal, copy-paste, the first noise result:
    the engine's region at full resolution, each captioned with its figures."""
    ys, xs = areas.region.slices

    def crop(image):
        return image[ys, xs]

    overlay = mask_overlay(crop(case.image), [(crop(case.source), SOURCE_COLOUR), (crop(case.target), TARGET_COLOUR)])
    row = [Tile(overlay, case.name, [f"mode: {case.mode}", "red: source, blue: target",
                                      f"classifier fit IoU {areas.classifier_fit_iou:.2f}"])]
    for name in METHODS:
        if name not in outputs:
            continue
        images = outputs[name] if name == "magic" else outputs[name][:1]
        for i, image in enumerate(images):
            per = methods[name]["per_result"][i]
            label = METHOD_LABELS[name] + (f" {i + 1}" if name == "magic" else "")
            caption = [f"IoU {_fmt(per['mask_iou'], 2)}, detail {_fmt(per['object_detail'], 2)}"]
            if per["object_intact"] is not None:
                caption.append(f"object intact {per['object_intact']:.2f}")
            if per["hole_texture"] is not None:  # a reshape leaves no hole (and the sheet's font has no dash)
                caption.append(f"hole texture {per['hole_texture']:.2f}")
            if i == 0 and methods[name]["diversity"] is not None:
                caption.append(f"diversity {methods[name]['diversity']:.3f}")
            row.append(Tile(crop(image), label, caption))
    return row


CLOSEUP = 256  # px: the close-ups are this square, at 100 %


def _closeup_box(mask: np.ndarray) -> tuple:
    """(left, top, right, bottom) of a CLOSEUP square centred on `mask`, inside the photo."""
    box_left, box_top, box_right, box_bottom = mask_box(mask)
    height, width = mask.shape
    side_x, side_y = min(CLOSEUP, width), min(CLOSEUP, height)
    left = int(np.clip((box_left + box_right - 1) // 2 - side_x // 2, 0, width - side_x))
    top = int(np.clip((box_top + box_bottom - 1) // 2 - side_y // 2, 0, height - side_y))
    return left, top, left + side_x, top + side_y


def _closeup_row(case: Case, areas: CaseAreas, outputs: dict) -> list:
    """At 100 %: around the hole (or, for a reshape, the object's new area), the photo, every
    MAGIC variant and paste + heal; around the object's new place, the photo, MAGIC's
    first variant and paste + heal."""
    hole = np.zeros(case.source.shape, bool)
    hole[areas.region.slices] = areas.freedom
    places = [("hole" if areas.vacated.any() else "new area", hole if hole.any() else case.target,
               list(enumerate(outputs["magic"], 1))),
              ("object", case.target, [(1, outputs["magic"][0])])]
    row = []
    for where, mask, variants in places:
        left, top, right, bottom = _closeup_box(mask)
        row.append(Tile(case.image[top:bottom, left:right], f"photo, {where}"))
        for i, image in variants:
            row.append(Tile(image[top:bottom, left:right], f"MAGIC {i}, {where}"))
        if "paste_heal" in outputs:
            row.append(Tile(outputs["paste_heal"][0][top:bottom, left:right], f"paste + heal, {where}"))
    row[0].label = f"{case.name}: photo, {places[0][0]}"
    return row


def summarise(case_reports: list) -> dict:
    """Per method, the mean of each figure over the cases that have it."""
    summary = {}
    for name in METHODS:
        present = [c["methods"][name] for c in case_reports if name in c["methods"]]
        summary[name] = {figure: _mean([m[figure] for m in present]) for figure in FIGURES}
    return summary


def markdown_table(report: dict) -> str:
    settings = report["settings"]
    preset = f"Preset `{settings['preset']}`"
    if report["cases"]:
        cfg = report["cases"][0]["engine_report"]["config"]
        preset += (f" ({cfg['variants']} variants, level 0 at {cfg['size']} px, {cfg['iterations']} steps, "
                   f"start {cfg['init']}, lr {cfg['learning_rate']}, "
                   f"{cfg['refine_iterations']} patch rounds per level)")
    lines = [
        f"{preset}, classifier `{settings['classifier']}`, device `{settings['device']}`, "
        f"seed {settings['seed']}, engine {report['engine_version']}; "
        f"{_count(len(report['cases']), 'case')} in {report['total_seconds'] / 60:.1f} min.",
        "",
        "| case | method | mask IoU ↑ | object intact ↑ | object detail →1 | hole texture →1 | "
        "patch SWD object ↓ | patch SWD background ↓ | diversity ↑ | changed outside | seconds |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(first, name, scores, seconds):
        return (f"| {first} | {METHOD_LABELS[name]} | {_fmt(scores['mask_iou'], 3)} | "
                f"{_fmt(scores['object_intact'], 3)} | "
                f"{_fmt(scores['object_detail'], 2)} | {_fmt(scores['hole_texture'], 2)} | "
                f"{_fmt(scores['swd_object'], 4)} | {_fmt(scores['swd_background'], 4)} | "
                f"{_fmt(scores['diversity'], 3)} | {_fmt(scores['changed_outside'], 0)} | {seconds} |")

    for case in report["cases"]:
        first = f"{case['name']} ({case['mode']}, {case['image_size'][0]}x{case['image_size'][1]})"
        for name in METHODS:
            if name in case["methods"]:
                lines.append(row(first, name, case["methods"][name], _fmt(case["methods"][name]["seconds"], 1)))
                first = ""
    if len(report["cases"]) > 1:
        first = f"**mean of {len(report['cases'])} cases**"
        for name in METHODS:
            if report["summary"][name]["mask_iou"] is not None:
                lines.append(row(first, name, report["summary"][name], ""))
                first = ""
    lines += ["", "Targets (MAGIC, per case):", ""]
    for case in report["cases"]:
        checks = ", ".join(f"{c['name']} {'ok' if c['met'] else 'MISSED'} ({c['value']})" for c in case["targets"])
        lines.append(f"- {case['name']}: {checks}")
    lines += ["", "MAGIC against paste + heal, figure by figure (= at least as good, < worse):", ""]
    for case in report["cases"]:
        compared = case.get("against_paste_heal") or []
        if compared:
            lines.append(f"- {case['name']}: " + ", ".join(
                f"{c['label']} {'=' if c['as_good'] else '<'} ({c['magic']:.3g} vs {c['paste_heal']:.3g})"
                for c in compared))
    if settings.get("classifier_warning"):
        lines += ["", f"Warning: {settings['classifier_warning']}"]
    lines += [
        "",
        "All figures on the engine's region at the photo's own resolution. mask IoU: a per-pixel "
        "object/background classifier fitted on the input (source mask as labels) is applied to each result; "
        "IoU of its object pixels with the target mask (1 is best). object intact (moves): the share of the "
        "moved object's pixels, farther inside the target than 0.5 % of the image's diagonal, that arrive within "
        "24 grey levels (every channel) of the pixel they were moved from. object detail: median absolute high-pass "
        "(luminance minus its 1 px Gaussian blur) inside the target in the result / inside the source in the "
        "input. hole texture: the same in the vacated area (source minus target) in the result / in the input's "
        "background around it (not reported where less than 5 % of the object's area is vacated). patch SWD: "
        "sliced Wasserstein distance between 7x7 RGB patches of the result and of the input, object = target (result) / source (input), background = the engine's "
        "edit area outside the target (result) / outside both masks (input); 0 is best. diversity: mean "
        "absolute RGB difference (0..1) between pairs of variants in the vacated area (the new area, target "
        "minus source, where nothing is vacated); beside the target, the photo's own variation there: the same "
        "distance between pixels of the input 7 px apart in the hole's surroundings (in the object for a "
        "reshape): how much neighbouring pieces of the photo differ there. changed outside: pixels that "
        "differ from the input outside the area the method says it edits (must be 0). paste + heal: the object "
        "pasted into the target box, "
        "the hole healed with OpenCV's shift-map inpainting; copy-paste: the same paste, hole left as it was; "
        "noise: uniform noise over the engine's edit area.",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(report: dict, rows: list, out_dir: Path, closeups: list | None = None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "table.md").write_text(markdown_table(report))
    settings = report["settings"]
    title = (f"MAGIC evaluation: preset {settings['preset']}, classifier {settings['classifier']}, "
             f"{settings['device']}. Object detail and hole texture: 1 is the photo's own sharpness.")
    make_sheet(rows, title=title).save(out_dir / "sheet.png", optimize=True)
    if closeups:
        make_sheet(closeups, title=title.split(".")[0] + ": close-ups at 100 %", tile_height=CLOSEUP).save(
            out_dir / "closeups.png", optimize=True)


def run_evaluation(cases: list, out_dir, preset: str = DEFAULT_PRESET, classifier: str = "auto",
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
                     "variants": variants, "iterations": iterations, "overrides": overrides or {}},
        "cases": [],
        "summary": {},
        "total_seconds": 0.0,
    }
    rows, closeups = [], []
    for number, case in enumerate(cases, 1):
        config = make_config(preset, case.mode, variants=variants, iterations=iterations, **(overrides or {}))
        log(f"[{number}/{len(cases)}] {case.name} ({case.mode}, {case.image.shape[1]}x{case.image.shape[0]} px)")
        case_started = time.perf_counter()
        entry = evaluate_case(case, config, engine_classifier, device, seed, out_dir, log)
        rows.append(entry.pop("_sheet_row"))
        closeups.append(entry.pop("_closeup_row"))
        entry["seconds"] = round(time.perf_counter() - case_started, 2)
        report["cases"].append(entry)
        report["summary"] = summarise(report["cases"])
        report["total_seconds"] = round(time.perf_counter() - started, 2)
        write_outputs(report, rows, out_dir, closeups)
        log(f"  case done in {entry['seconds']:.1f} s")
    log(f"{_count(len(cases), 'case')} in {report['total_seconds'] / 60:.1f} min; wrote {out_dir / 'report.json'}, "
        f"{out_dir / 'table.md'}, {out_dir / 'sheet.png'}, {out_dir / 'closeups.png'}")
    return report
