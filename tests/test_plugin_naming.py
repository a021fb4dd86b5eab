"""Names of the result group and layers, and the seed they carry."""

from __future__ import annotations

import random

import pytest

from magic_gimp_core.choices import job_params
from magic_gimp_core.naming import SEED_RANDOM, group_name, layer_name, next_run, resolve_seed


# What GIMP's Layers dock shows of a name in its default width (seen in
# tests/gimp/screenshot.sh): a top-level group, and a layer inside it.
GROUP_CHARS, LAYER_CHARS = 10, 3


def test_names_carry_mode_preset_seed_and_index():
    assert group_name(2, "position", "preview", 42) == "Run 2: MAGIC position, preview, seed 42"
    assert layer_name("shape", "standard", 0, 3) == "#3 shape, standard, seed 0"


def test_variants_differ_within_what_the_dock_shows():
    shown = {layer_name("position", "preview", 123456, i)[:LAYER_CHARS] for i in range(1, 17)}
    assert len(shown) == 16
    # Two runs of the same settings (a second run to get more variants) differ too.
    assert group_name(1, "scene", "paper", 1)[:GROUP_CHARS] != group_name(2, "scene", "paper", 1)[:GROUP_CHARS]
    assert group_name(12, "scene", "paper", 1)[:GROUP_CHARS] == "Run 12: MA"


def test_a_new_run_gets_a_number_no_earlier_run_has():
    assert next_run([]) == 1
    assert next_run([1, 2]) == 3
    assert next_run([3]) == 4  # runs 1 and 2 were deleted: numbers are not reused
    assert next_run([None, None]) == 3  # groups from an older plug-in carry no number


def test_a_random_seed_is_made_concrete_and_a_given_one_is_kept():
    assert resolve_seed(7) == 7
    seeds = {resolve_seed(SEED_RANDOM, random.Random(i)) for i in range(20)}
    assert len(seeds) > 15 and all(0 <= s <= 999_999 for s in seeds)
    with pytest.raises(ValueError, match="seed"):
        resolve_seed(-5)


def test_job_params_leave_variants_to_the_preset_when_zero():
    assert job_params("position", "tiny", 0, 3) == {"mode": "position", "preset": "tiny", "seed": 3}
    assert job_params("scene", "paper", 4, 1)["variants"] == 4
    with pytest.raises(ValueError, match="mode"):
        job_params("teleport", "tiny", 0, 1)
    with pytest.raises(ValueError, match="variants"):
        job_params("position", "tiny", 17, 1)


def test_plugin_choices_are_the_engines():
    from magic_engine import MODES, PRESET_NAMES
    from magic_gimp_core import choices

    assert set(choices.MODES) == set(MODES)
    assert set(choices.PRESETS) == set(PRESET_NAMES)
