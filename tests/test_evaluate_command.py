"""End to end: `python -m magic_engine.evaluate` on a tiny synthetic case, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("magic", "paste_heal", "copy_paste", "noise")
FIGURES = ("mask_iou", "object_detail", "hole_texture", "swd_object", "swd_background")


def disc_scene(height=96, width=128):
    """A red disc on the left of a noisy striped background; the target a disc on the right."""
    yy, xx = np.mgrid[:height, :width]
    stripes = ((xx // 6) % 2).astype(np.float32)
    rgb = np.stack([0.1 + 0.05 * stripes, 0.35 + 0.3 * stripes, 0.7 - 0.2 * stripes], axis=2)
    rgb += np.random.default_rng(0).normal(0, 0.03, rgb.shape)
    radius = height // 5
    source = (yy - height // 2) ** 2 + (xx - width // 4) ** 2 <= radius ** 2
    target = (yy - height // 2) ** 2 + (xx - 3 * width // 4) ** 2 <= radius ** 2
    rgb[source] = [0.85, 0.1, 0.1]
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8), source, target


def write_case(folder: Path):
    rgb, source, target = disc_scene()
    folder.mkdir(parents=True)
    Image.fromarray(rgb).save(folder / "image.png")
    Image.fromarray(source.astype(np.uint8) * 255).save(folder / "source.png")
    Image.fromarray(target.astype(np.uint8) * 255).save(folder / "target.png")
    (folder / "case.json").write_text(json.dumps({"mode": "position", "description": "red disc moved right",
                                                  "source": "synthetic"}))


def run_evaluate(*args):
    return subprocess.run([sys.executable, "-m", "magic_engine.evaluate", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_evaluate_writes_report_table_and_sheet(tmp_path):
    write_case(tmp_path / "cases" / "disc-move")
    out = tmp_path / "out"
    done = run_evaluate("--cases", str(tmp_path / "cases"), "--out", str(out), "--preset", "tiny",
                        "--classifier", "random:resnet18", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    assert "[1/1] disc-move" in done.stderr and "case done in" in done.stderr

    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["preset"] == "tiny"
    assert "resnet18" in report["settings"]["classifier"]
    (case,) = report["cases"]
    assert case["name"] == "disc-move" and case["mode"] == "position"
    assert case["classifier_fit_iou"] > 0.8  # a red disc on stripes is easy to find
    for method in METHODS:
        scores = case["methods"][method]
        for figure in FIGURES:
            assert isinstance(scores[figure], float), (method, figure)
            assert len(scores["per_result"]) == scores["results"]
        assert isinstance(report["summary"][method]["mask_iou"], float)
    assert case["methods"]["magic"]["results"] == 2  # the tiny preset's variants
    assert isinstance(case["methods"]["magic"]["diversity"], float)
    assert case["methods"]["copy_paste"]["diversity"] is None  # one deterministic result
    # Known answers on this scene: copy-paste puts the disc in the target; noise is worst on patches.
    copy, noise = case["methods"]["copy_paste"], case["methods"]["noise"]
    assert copy["mask_iou"] > 0.3 > noise["mask_iou"]
    assert noise["swd_object"] > copy["swd_object"]

    table = (out / "table.md").read_text()
    for label in ("| disc-move (position, 128x96) | MAGIC |", "| paste + heal |", "| copy-paste |", "| noise |",
                  "mask IoU", "object intact", "Targets", "MAGIC against paste + heal"):
        assert label in table
    assert case["methods"]["magic"]["changed_outside"] == 0  # nothing outside the edit area changed
    assert {c["name"] for c in case["targets"]} >= {"changed outside = 0", "object detail >= 0.85",
                                                    "object intact >= 0.97"}
    compared = {row["figure"] for row in case["against_paste_heal"]}
    assert compared >= {"mask_iou", "object_intact", "hole_texture"}
    assert f"- disc-move: IoU {'=' if case['against_paste_heal'][0]['as_good'] else '<'}" in table
    # Close-ups at 100 %: the photo is smaller than a close-up, so each tile is the whole photo, unscaled.
    closeups = Image.open(out / "closeups.png")
    assert closeups.height > 96 and closeups.width > 6 * 128
    sheet = Image.open(out / "sheet.png")
    assert sheet.width > 6 * 100 and sheet.height > 100  # input + 2 variants + 3 baselines
    for name in ("magic-1.png", "magic-2.png", "paste-heal.png", "copy-paste.png", "noise-1.png"):
        assert Image.open(out / "disc-move" / name).size == (128, 96)


@pytest.mark.slow
def test_evaluate_reports_a_bad_cases_folder(tmp_path):
    done = run_evaluate("--cases", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "cases folder not found" in done.stderr
    assert not (tmp_path / "out").exists()
