"""Crops with transparency, and cutting the edited area out of a layer's copy."""

import pytest

from magic_gimp_core.transparency import cut_out, shows_transparency


def test_a_result_shows_transparency_only_where_a_shown_pixel_is_not_opaque():
    opaque = bytes([10, 20, 30, 255]) * 6
    everywhere, nowhere = bytes([255]) * 6, bytes(6)
    assert not shows_transparency(opaque, everywhere)
    assert shows_transparency(opaque[:-1] + bytes([254]), everywhere)
    half = bytes([255, 255, 255, 0]) + opaque[4:]
    assert shows_transparency(half, everywhere) and not shows_transparency(half, nowhere)
    assert not shows_transparency(half, bytes([0]) + bytes([255]) * 5)  # the clear pixel is not shown


def test_cut_out_clears_alpha_only_where_shown_and_keeps_colours():
    rgba = bytes([1, 2, 3, 255, 4, 5, 6, 128, 7, 8, 9, 0, 10, 11, 12, 200])
    out = cut_out(rgba, bytes([255, 0, 0, 255]))
    assert out == bytes([1, 2, 3, 0, 4, 5, 6, 128, 7, 8, 9, 0, 10, 11, 12, 0])
    with pytest.raises(ValueError, match="do not match"):
        cut_out(rgba, bytes([255, 0]))
