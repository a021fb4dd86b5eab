"""Bad input gets a clear error (or documented handling), never a crash or an OOM."""

import numpy as np
import pytest
from PIL import Image

from engine_fixtures import disc_scene
from magic_engine import InputError
from magic_engine.inputs import prepare_inputs


@pytest.fixture
def scene():
    return disc_scene(64, 80)


def test_good_input_passes_through(scene):
    rgb, src, tgt = scene
    prepared = prepare_inputs(rgb, src, tgt)
    assert prepared.rgb.shape == (64, 80, 3) and prepared.alpha is None and prepared.notes == []
    assert (prepared.source == src).all() and (prepared.target == tgt).all()


def test_mask_of_the_wrong_size(scene):
    rgb, src, tgt = scene
    with pytest.raises(InputError, match=r"target mask is 40x32 px but the image is 80x64 px"):
        prepare_inputs(rgb, src, tgt[:32, :40])


def test_empty_masks(scene):
    rgb, src, tgt = scene
    with pytest.raises(InputError, match="source mask is empty"):
        prepare_inputs(rgb, np.zeros_like(src), tgt)
    with pytest.raises(InputError, match="target mask is empty or lies outside the image"):
        prepare_inputs(rgb, src, np.zeros_like(tgt))


def test_soft_masks_are_thresholded_and_reported_and_a_soft_source_is_kept_as_the_matte(scene):
    rgb, src, tgt = scene
    soft = src.astype(np.float32) * 0.9 + 0.05  # 5 % outside, 95 % inside
    prepared = prepare_inputs(rgb, soft, (tgt * 200).astype(np.uint8))
    assert (prepared.source == src).all() and (prepared.target == tgt).all()
    assert any("target mask had" in n and "thresholded" in n for n in prepared.notes)
    assert any("source mask had" in n and "opacity" in n for n in prepared.notes)
    assert prepared.source_matte is not None and set(np.unique(prepared.source_matte)) == {13, 242}
    assert prepare_inputs(rgb, src, tgt).source_matte is None  # a hard selection has none


def test_an_antialiased_or_noisy_hard_source_and_a_cut_out_s_source_are_thresholded(scene):
    rgb, src, tgt = scene
    edge = src & ~np.roll(src, 1, axis=1)  # the outline's left pixels, half covered
    antialiased = np.where(edge, 128, src * 255).astype(np.uint8)
    antialiased[np.roll(edge, -1, axis=1)] = 60  # and the pixels just outside, a little
    noisy = np.where(src, 254, 1).astype(np.uint8)  # a mask saved as a JPEG
    for mask in (antialiased, noisy):
        prepared = prepare_inputs(rgb, mask, tgt)
        assert prepared.source_matte is None and any("thresholded" in n for n in prepared.notes)
    feathered = (np.clip(np.hypot(*np.mgrid[-32:32, -40:40]) * -0.05 + 1.2, 0, 1) * 255).astype(np.uint8)
    assert prepare_inputs(rgb, feathered, tgt).source_matte is not None
    cut_out = np.dstack([rgb, np.where(src, 255, 0).astype(np.uint8)])  # the object on a transparent layer
    assert prepare_inputs(cut_out, feathered, tgt).source_matte is None  # its alpha is its edge


def test_mask_images_in_rgb_and_alpha_form(scene, tmp_path):
    rgb, src, tgt = scene
    Image.fromarray(np.stack([src * 255] * 3, axis=2).astype(np.uint8)).save(tmp_path / "src.png")
    alpha_only = np.zeros(tgt.shape + (4,), np.uint8)
    alpha_only[..., 3] = tgt * 255  # black everywhere, the shape in the alpha channel
    Image.fromarray(alpha_only).save(tmp_path / "tgt.png")
    Image.fromarray(rgb).save(tmp_path / "img.png")
    prepared = prepare_inputs(tmp_path / "img.png", tmp_path / "src.png", tmp_path / "tgt.png")
    assert (prepared.source == src).all() and (prepared.target == tgt).all()
    red_selection = np.zeros(tgt.shape + (4,), np.uint8)
    red_selection[..., 0] = 255  # a selection exported as a red layer: the alpha is the mask
    red_selection[..., 3] = tgt * 255
    Image.fromarray(red_selection).save(tmp_path / "red.png")
    assert (prepare_inputs(rgb, src, tmp_path / "red.png").target == tgt).all()
    grey_opaque = np.stack([tgt * 255, np.full(tgt.shape, 255)], axis=2).astype(np.uint8)  # LA, nothing transparent
    assert (prepare_inputs(rgb, src, grey_opaque).target == tgt).all()
    half = np.stack([tgt * 200 + 20, np.full(tgt.shape, 255)], axis=2).astype(np.uint8)  # its grey, not mixed with alpha
    assert (prepare_inputs(rgb, src, half).target == tgt).all()
    Image.fromarray(np.full(tgt.shape + (4,), (0, 0, 0, 255), np.uint8)).save(tmp_path / "blank.png")
    with pytest.raises(InputError, match="target mask is empty"):  # opaque black: nothing selected
        prepare_inputs(rgb, src, tmp_path / "blank.png")


def test_tiny_image_is_refused():
    one = np.zeros((1, 1, 3), np.uint8)
    with pytest.raises(InputError, match=r"image is 1x1 px; MAGIC needs at least 16x16"):
        prepare_inputs(one, np.ones((1, 1), bool), np.ones((1, 1), bool))


def test_huge_image_is_refused_before_any_copy():
    # 20000 x 20000 x 3 as a zero-copy view: the check must happen before memory is touched
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (20000, 20000, 3))
    mask = np.broadcast_to(np.ones((1, 1), bool), (20000, 20000))
    with pytest.raises(InputError, match=r"20000x20000 px \(400 MP\); the limit is 100 MP"):
        prepare_inputs(huge, mask, mask)


def test_huge_image_file_is_refused_from_its_header(tmp_path):
    Image.new("1", (12000, 9000)).save(tmp_path / "big.png")  # 108 MP, tiny file
    with pytest.raises(InputError, match=r"12000x9000 px"):
        prepare_inputs(tmp_path / "big.png", tmp_path / "big.png", tmp_path / "big.png")


def test_source_mask_covering_everything(scene):
    rgb, _, tgt = scene
    with pytest.raises(InputError, match="needs some background"):
        prepare_inputs(rgb, np.ones(rgb.shape[:2], bool), tgt)


def test_alpha_is_kept_and_16_bit_and_float_images_are_converted(scene):
    rgb, src, tgt = scene
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 128, np.uint8)], axis=2)
    assert prepare_inputs(rgba, src, tgt).alpha.max() == 128
    wide = rgb.astype(np.uint16) * 257
    assert (prepare_inputs(wide, src, tgt).rgb == rgb).all()
    assert (prepare_inputs(rgb / 255.0, src, tgt).rgb == rgb).all()
    with pytest.raises(InputError, match="NaN"):
        prepare_inputs(np.full(rgb.shape, np.nan), src, tgt)


def test_missing_and_unreadable_files(tmp_path, scene):
    rgb, src, tgt = scene
    with pytest.raises(InputError, match="the image .* does not exist"):
        prepare_inputs(tmp_path / "nope.png", src, tgt)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match="not an image Pillow can read"):
        prepare_inputs(tmp_path / "bad.png", src, tgt)


def test_damaged_and_bomb_files_are_clear_errors_before_decoding(tmp_path, scene):
    from image_files import bomb_png, truncated_png

    rgb, src, tgt = scene
    with pytest.raises(InputError, match="damaged or cut short"):
        prepare_inputs(truncated_png(tmp_path / "cut.png"), src, tgt)
    with pytest.raises(InputError, match="too large to open safely"):
        prepare_inputs(bomb_png(tmp_path / "bomb.png"), src, tgt)


def test_exif_orientation_is_applied_so_masks_drawn_as_displayed_fit(tmp_path):
    from image_files import portrait_jpeg

    photo = portrait_jpeg(tmp_path / "portrait.jpg", stored=(120, 90))
    source = np.zeros((120, 90), bool)  # drawn over the photo as displayed: 90 wide, 120 high
    source[40:60, 30:50] = True
    target = np.roll(source, 30, axis=0)
    prepared = prepare_inputs(photo, source, target)
    assert prepared.rgb.shape == (120, 90, 3)
    assert prepared.rgb[2, :, 0].mean() > 200 and prepared.rgb[-3, :, 0].mean() < 100  # the red edge is on top


def test_the_engines_public_names_resolve_on_first_use():
    import magic_engine

    for name in magic_engine.__all__:  # imported lazily (reading files needs no torch): each must be there
        assert getattr(magic_engine, name) is not None, name
    assert magic_engine.__version__
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        magic_engine.no_such_name  # noqa: B018
