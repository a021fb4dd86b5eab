"""Loading classifiers: robustness-library checkpoints, plain state dicts,
names, random networks, and the errors for files that do not fit."""

import argparse

import pytest
import torch
import torchvision

from magic_engine import ClassifierError, RandomClassifierWarning, load_classifier
from magic_engine.classifier import IMAGENET_MEAN, IMAGENET_STD


def _robustness_checkpoint(model, path, extras=True):
    """What the robustness library saves: DataParallel(AttackerModel) weights
    under 'model' (normaliser, model, attacker copy), plus training state."""
    state = {}
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    state["module.normalizer.new_mean"], state["module.normalizer.new_std"] = mean, std
    for key, value in model.state_dict().items():
        state[f"module.model.{key}"] = value
        state[f"module.attacker.model.{key}"] = value
    state["module.attacker.normalize.new_mean"], state["module.attacker.normalize.new_std"] = mean, std
    checkpoint = {"model": state, "epoch": 90}
    if extras:
        checkpoint["optimizer"] = {"state": {}, "param_groups": [{"lr": 0.1}]}
        checkpoint["schedule"] = None
    torch.save(checkpoint, path)


@pytest.fixture(scope="module")
def resnet18():
    torch.manual_seed(3)
    return torchvision.models.resnet18().eval()


def test_robustness_format_checkpoint_loads_strictly_and_matches(tmp_path, resnet18):
    path = tmp_path / "resnet18_l2_eps0.05.ckpt"
    _robustness_checkpoint(resnet18, path)
    clf = load_classifier(str(path), "cpu")
    assert "resnet18" in clf.description
    pixels = torch.rand(2, 3, 64, 64)
    logits, features = clf(clf.normalize(pixels))
    with torch.no_grad():
        expected = resnet18(torchvision.transforms.functional.normalize(pixels, IMAGENET_MEAN, IMAGENET_STD))
    assert torch.allclose(logits, expected, atol=1e-5)
    # stem (before max-pool), layer1, layer2, layer3
    assert [f.shape[1] for f in features] == [64, 64, 128, 256]
    assert [f.shape[-1] for f in features] == [32, 16, 8, 4]


def test_plain_state_dict_and_pathlike(tmp_path, resnet18):
    path = tmp_path / "plain.pth"
    torch.save(resnet18.state_dict(), path)
    clf = load_classifier(path, "cpu")
    assert clf.description.startswith("resnet18")


def test_classifier_is_frozen_and_stays_in_eval_mode(tmp_path, resnet18):
    path = tmp_path / "plain.pth"
    torch.save(resnet18.state_dict(), path)
    clf = load_classifier(str(path), "cpu")
    clf.train()
    assert not clf.training and not clf.model.training
    assert not any(p.requires_grad for p in clf.parameters())
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    logits, _ = clf(x)
    logits.sum().backward()
    assert x.grad is not None and all(p.grad is None for p in clf.parameters())


def test_missing_file_names_it(tmp_path):
    with pytest.raises(ClassifierError, match="not found: .*nothere.ckpt"):
        load_classifier(str(tmp_path / "nothere.ckpt"), "cpu")


def test_mismatched_weights_name_the_file_and_the_closest_architecture(tmp_path, resnet18):
    state = resnet18.state_dict()
    state["fc.weight"] = torch.zeros(10, 512)  # a 10-class head
    state["fc.bias"] = torch.zeros(10)
    path = tmp_path / "cifar_head.pt"
    torch.save(state, path)
    with pytest.raises(ClassifierError, match=r"cifar_head.pt.*Closest is resnet18.*fc.weight"):
        load_classifier(str(path), "cpu")


def test_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    torch.save({"hello": "world"}, path)
    with pytest.raises(ClassifierError, match="not a classifier checkpoint"):
        load_classifier(str(path), "cpu")
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"definitely not a zip or pickle")
    with pytest.raises(ClassifierError, match="garbage.ckpt"):
        load_classifier(str(garbage), "cpu")


def test_pickled_objects_need_explicit_trust(tmp_path, resnet18):
    path = tmp_path / "with_args.ckpt"
    checkpoint = {"model": {f"module.model.{k}": v for k, v in resnet18.state_dict().items()},
                  "args": argparse.Namespace(arch="resnet18")}
    torch.save(checkpoint, path)
    with pytest.raises(ClassifierError, match="trust-checkpoint"):
        load_classifier(str(path), "cpu")
    assert "resnet18" in load_classifier(str(path), "cpu", trust_checkpoint=True).description


def test_random_classifier_warns_loudly_and_is_reproducible():
    with pytest.warns(RandomClassifierWarning, match="no learned semantics"):
        a = load_classifier("random:resnet18", "cpu")
    with pytest.warns(RandomClassifierWarning):
        b = load_classifier("random:resnet18", "cpu")
    assert a.warning and "UNTRAINED" in a.warning
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(a(x)[0], b(x)[0])


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ClassifierError, match="unknown classifier architecture 'resnet9000'"):
        load_classifier("random:resnet9000", "cpu")


def test_named_model_without_cached_weights_explains_where_they_go(tmp_path, monkeypatch):
    import urllib.request

    # urlopen caches an opener built from the proxy variables below: restore it afterwards
    monkeypatch.setattr(urllib.request, "_opener", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # closed port: the download fails at once
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(ClassifierError, match=r"resnet18 are not in the torch cache"):
        load_classifier("resnet18", "cpu")


def test_non_cnn_is_refused():
    model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 10))
    with pytest.raises(ClassifierError, match="MAGIC needs a CNN"):
        load_classifier(model, "cpu")


def test_auto_uses_installed_weights(tmp_path, monkeypatch, resnet18):
    monkeypatch.setenv("MAGIC_GIMP_HOME", str(tmp_path))
    with pytest.warns(RandomClassifierWarning):
        assert load_classifier("auto", "cpu").description == "random resnet50"
    (tmp_path / "weights").mkdir()
    _robustness_checkpoint(resnet18, tmp_path / "weights" / "resnet50_l2_eps0.05.ckpt")
    assert load_classifier("auto", "cpu").description.startswith("resnet18 from")


def test_bottleneck_resnet_taps_and_folded_batch_norms_keep_the_output():
    torch.manual_seed(0)
    model = torchvision.models.resnet50().eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):  # non-trivial statistics
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        expected = model(x)
    import copy
    clf = load_classifier(copy.deepcopy(model), "cpu")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in clf.modules())  # all folded
    assert clf.tap_names == ["relu", "layer1", "layer2", "layer3"]
    with torch.no_grad():
        logits, features = clf(x)
    assert torch.allclose(logits, expected, atol=1e-3, rtol=1e-4)
    assert [f.shape[1] for f in features] == [64, 256, 512, 1024]
