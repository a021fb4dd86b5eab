"""The installer (stdlib only) puts the weights where the engine looks, and both read one manifest."""

from __future__ import annotations

import pytest

import magic_engine.paths as engine_paths
from installer import checkpoints, gimp_dirs, locations
from installer_support import use_fake_home


def test_default_checkpoint_lands_where_the_engine_looks(tmp_path, monkeypatch):
    use_fake_home(monkeypatch, tmp_path / "home")
    manifest = checkpoints.load_manifest()
    default = manifest[checkpoints.default_name()]
    assert default.name == engine_paths.DEFAULT_CHECKPOINT
    assert locations.weights_dir() / default.file == engine_paths.default_checkpoint_path()


def test_manifest_lists_the_published_checkpoints():
    manifest = checkpoints.load_manifest()
    expected = {f"resnet50_l2_eps{e}" for e in ("0", "0.01", "0.03", "0.05", "0.1", "0.25", "0.5", "1", "3", "5")}
    expected |= {f"resnet50_linf_eps{e}" for e in ("0.5", "1.0", "2.0", "4.0", "8.0")}
    assert set(manifest) == expected
    for name, entry in manifest.items():
        assert entry.file == name + ".ckpt"
        assert entry.urls == ["https://huggingface.co/madrylab/robust-imagenet-models/resolve/main/" + entry.file]
        assert entry.sha256 is None or (len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0)
    assert manifest["resnet50_l2_eps0.05"].sha256 == \
        "e09d8763fcf825542f07389a1904adf15930451b8661a0de209c3bc39828c2ea"


def test_a_damaged_manifest_is_an_install_error_naming_it(tmp_path):
    damaged = tmp_path / "checkpoints.json"
    damaged.write_text("{not json")
    for read in (checkpoints.load_manifest, checkpoints.default_name):
        with pytest.raises(checkpoints.InstallError, match=str(damaged)):
            read(damaged)


@pytest.mark.parametrize("spec, name", [
    ("resnet50_l2_eps3", "resnet50_l2_eps3"),
    ("resnet50_l2_eps3.ckpt", "resnet50_l2_eps3"),
    ("l2:3", "resnet50_l2_eps3"),
    ("eps0.05", "resnet50_l2_eps0.05"),
    ("linf:4", "resnet50_linf_eps4.0"),
    ("linf_eps0.5", "resnet50_linf_eps0.5"),
])
def test_checkpoint_short_names(spec, name):
    assert checkpoints.resolve(spec, checkpoints.load_manifest()).name == name


def test_mirror_replaces_the_url_base():
    entry = checkpoints.load_manifest()["resnet50_l2_eps1"]
    assert entry.urls_with_mirror("http://lan-box:8000/weights/") == \
        ["http://lan-box:8000/weights/resnet50_l2_eps1.ckpt"]


def test_every_gimp_3_user_folder_is_found_in_version_order(tmp_path, monkeypatch):
    use_fake_home(monkeypatch, tmp_path / "home")
    monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
    for version in ("3.2", "3.0", "3.10", "2.10", "3.x-backup"):  # GIMP 3.2 next to the 3.0 it migrated from
        (locations.user_config_home() / "GIMP" / version).mkdir(parents=True)
    native = [p for p in gimp_dirs.find_profiles() if p.flavor == "native"]
    assert [p.version for p in native] == ["3.0", "3.2", "3.10"]
    assert native[1].config_dir == locations.user_config_home() / "GIMP" / "3.2"
