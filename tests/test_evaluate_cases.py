"""The bundled cases load, cover the three modes, stay small; bad case folders get clear errors."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from magic_engine import MODES, InputError
from magic_engine.evaluate import find_cases, load_case

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_bundled_cases_cover_every_mode_and_are_documented():
    cases = find_cases(EXAMPLES / "cases")
    assert 10 <= len(cases) <= 16
    assert {c.mode for c in cases} == set(MODES)
    assert any(c.name.startswith("demo-") for c in cases)
    # cases at a large photo's own resolution, where the resolution of an edit and thin parts show
    assert sum(max(c.image.shape[:2]) >= 2000 for c in cases) >= 2
    for case in cases:
        assert case.description
        assert "public domain" in case.provenance.lower() or "cc0" in case.provenance.lower(), case.name
        assert case.source.any() and case.target.any() and not (case.source == case.target).all()
        # Stored as clean 8-bit 0/255 masks, but for a selection's soft edge (a matte).
        target = np.unique(np.asarray(Image.open(case.folder / "target.png")))
        assert set(target) <= {0, 255}, case.name
    soft = [case.name for case in cases if not set(np.unique(case.source_values)) <= {0, 255}]
    assert soft == ["dandelion-matte-move"]  # one soft selection (a matte) is evaluated too


def test_bundled_examples_stay_small():
    # 15 cases, five of them on photos of 2400-3840 px (thin parts show only at a photo's own size)
    total = sum(p.stat().st_size for p in EXAMPLES.rglob("*") if p.is_file())
    assert total < 4_500_000, total


def test_a_single_case_folder_is_a_case_set(tmp_path):
    cases = find_cases(EXAMPLES / "cases" / "demo-rocket-move")
    assert [c.name for c in cases] == ["demo-rocket-move"]


@pytest.fixture
def case_dir(tmp_path):
    folder = tmp_path / "cases" / "one"
    shutil.copytree(EXAMPLES / "cases" / "tower-lattice-wider", folder)
    return folder


def test_missing_mask_is_named(case_dir):
    (case_dir / "target.png").unlink()
    with pytest.raises(InputError, match="target mask is missing"):
        load_case(case_dir)


def test_mask_size_mismatch_is_named(case_dir):
    Image.new("L", (10, 10), 255).save(case_dir / "source.png")
    with pytest.raises(InputError, match=r"source.png is 10x10 px but the photo is 240x427"):
        load_case(case_dir)


def test_empty_mask_is_named(case_dir):
    Image.new("L", (240, 427), 0).save(case_dir / "target.png")
    with pytest.raises(InputError, match="target.png has no white"):
        load_case(case_dir)


def test_bad_mode_is_named(case_dir):
    (case_dir / "case.json").write_text(json.dumps({"mode": "move"}))
    with pytest.raises(InputError, match="mode must be one of position, shape, scene"):
        load_case(case_dir)


def test_unknown_case_name_lists_the_known_ones(case_dir):
    with pytest.raises(InputError, match="no case named nope .* there are: one"):
        find_cases(case_dir.parent, ["nope"])


def test_folder_without_cases_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no cases in"):
        find_cases(tmp_path)
    with pytest.raises(InputError, match="cases folder not found"):
        find_cases(tmp_path / "missing")
