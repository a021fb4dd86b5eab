"""One set of choices for a run: the engine, the server and the plug-in default to
the same mode and preset and refuse the same numbers (magic_common.choices)."""

import pytest

from magic_common import choices
from magic_engine import ConfigError, make_config
from magic_gimp_core.choices import job_params
from magic_server.validation import RequestError, check_params

OFFERED = {"mode": list(choices.MODES), "preset": list(choices.PRESET_NAMES), "classifier": ["random"],
           "device": ["auto"]}


def test_a_run_that_chooses_nothing_is_a_preview_move_everywhere():
    config = make_config()
    assert (config.preset, config.mode) == ("preview", "position") == (choices.DEFAULT_PRESET, choices.DEFAULT_MODE)


@pytest.mark.parametrize("name, low, high", [("variants", *choices.VARIANTS), ("size", *choices.WORK_SIZE),
                                             ("iterations", *choices.ITERATIONS)])
def test_the_engine_and_the_server_take_the_same_numbers(name, low, high):
    also = {"min_side": 32} if name == "size" else {}  # the finest level may not start above the working size
    for value in (low, high):
        make_config(**{name: value}, **also)
        assert check_params({name: value}, OFFERED) == {name: value}
    for value in (low - 1, high + 1):
        with pytest.raises(ConfigError, match=f"{name} must be {low}..{high}"):
            make_config(**{name: value}, **also)
        with pytest.raises(RequestError, match=f"{name} must be an integer in {low}..{high}"):
            check_params({name: value}, OFFERED)


def test_the_plugin_offers_the_servers_variants():
    assert job_params("position", "preview", choices.VARIANTS[1], 0)["variants"] == choices.VARIANTS[1]
    with pytest.raises(ValueError, match=f"to {choices.VARIANTS[1]}"):
        job_params("position", "preview", choices.VARIANTS[1] + 1, 0)
