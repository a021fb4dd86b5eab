"""tests/gpu/gpu_check.py runs on a CPU at toy sizes, so it works before a GPU machine ever sees it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_runs_every_section_on_the_cpu_and_prints_one_table(tmp_path):
    done = subprocess.run([sys.executable, "tests/gpu/gpu_check.py", "--device", "cpu", "--quick", "--out",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.index("| section |"):]
    for section in ("tests", "bf16", "bench", "3mp", "paper"):
        assert f"| {section} |" in table
    assert "FAILED" not in table
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    rows = {row["section"]: row for row in report["rows"]}
    assert rows["3mp"]["native"] is True  # refined all the way to the region's own resolution
    assert rows["bf16"]["gradient_cosine"] > 0.95
    assert rows["bench"]["figures"]["standard"]["full_s_per_step"] > 0
    # The paper run's results come back as pictures of the photo's size, for docs/benchmarks.md.
    composites = sorted(tmp_path.glob("paper-composite_*.png"))
    assert composites
    with Image.open(ROOT / "examples" / "cases" / "demo-rocket-move" / "image.jpg") as photo:
        for path in composites:
            with Image.open(path) as picture:
                assert picture.size == photo.size
