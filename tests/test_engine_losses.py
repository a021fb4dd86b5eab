"""Each term of the objective, on its own: value and the direction it pulls x'."""

import warnings

import numpy as np
import pytest
import torch

from engine_fixtures import disc_scene
from magic_engine import load_classifier, make_config
from magic_engine.losses import (PENALTY_MIN_SIDE, channel_statistics, critic_loss, feature_statistics_loss,
                                 l2_prior, penalty_window, total_variation)
from magic_engine.networks import MaskPredictor, PatchCritic
from magic_engine.objective import TERMS, MagicObjective

warnings.simplefilter("ignore")


def test_total_variation_of_constant_is_zero_and_of_checkerboard_is_known():
    flat = torch.full((2, 3, 8, 8), 0.7)
    tv_l1, tv_l2 = total_variation(flat)
    assert tv_l1.item() == 0 and tv_l2.item() == 0
    checker = torch.from_numpy((np.indices((8, 8)).sum(0) % 2).astype(np.float32)).expand(1, 1, 8, 8)
    tv_l1, tv_l2 = total_variation(checker)
    # horizontal and vertical neighbours always differ by 1, diagonal ones never
    assert tv_l1.item() == pytest.approx(2.0)
    assert tv_l2.item() == pytest.approx(2 * np.sqrt(8 * 7))


def test_l2_prior_is_mean_image_norm():
    x = torch.zeros(2, 3, 4, 4)
    x[0] = 1.0  # norm sqrt(48); second image norm 0
    assert l2_prior(x).item() == pytest.approx(np.sqrt(48) / 2)


def test_channel_statistics_use_unbiased_variance():
    f = torch.tensor([[[[1.0, 3.0]]]])
    mean, std = channel_statistics(f)
    assert mean.item() == pytest.approx(2.0)
    assert std.item() == pytest.approx(np.sqrt(2.0 + 1e-5))


def test_feature_statistics_loss_is_zero_at_the_reference_and_pulls_towards_it():
    ref = [torch.randn(1, 4, 6, 6), torch.randn(1, 8, 3, 3)]
    stats = [tuple(s.detach() for s in channel_statistics(f)) for f in ref]
    assert feature_statistics_loss([f.expand(3, -1, -1, -1) for f in ref], stats).item() == pytest.approx(0, abs=1e-9)
    moving = [torch.randn(3, 4, 6, 6, requires_grad=True), torch.randn(3, 8, 3, 3, requires_grad=True)]
    opt = torch.optim.Adam(moving, lr=0.05)
    first = feature_statistics_loss(moving, stats).item()
    for _ in range(100):
        opt.zero_grad()
        feature_statistics_loss(moving, stats).backward()
        opt.step()
    assert feature_statistics_loss(moving, stats).item() < 0.1 * first


def test_critic_learns_to_score_the_input_above_noise():
    torch.manual_seed(0)
    rgb, _, _ = disc_scene(48, 48)
    real = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255 * 4 - 2
    fake = torch.randn(4, 3, 48, 48)
    critic = PatchCritic(8)
    opt = torch.optim.Adam(critic.parameters(), lr=5e-4, betas=(0.5, 0.999))
    for _ in range(40):
        loss, stats = critic_loss(critic, real, fake, 0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert stats["gradient_penalty"].item() >= 0
    assert stats["critic_real"].item() > stats["critic_fake"].item()


def test_the_gradient_penalty_window_is_a_random_part_of_the_image_that_estimates_the_whole():
    generator = torch.Generator().manual_seed(0)
    windows = [penalty_window(224, 160, 0.5, generator, "cpu") for _ in range(20)]
    for rows, cols in windows:
        assert rows.stop - rows.start == 112 and cols.stop - cols.start == 80
        assert 0 <= rows.start and rows.stop <= 224 and 0 <= cols.start and cols.stop <= 160
    assert len({(rows.start, cols.start) for rows, cols in windows}) > 10  # the place changes from update to update
    rows, cols = penalty_window(60, 400, 0.25, generator, "cpu")
    assert rows.stop - rows.start == PENALTY_MIN_SIDE and cols.stop - cols.start == 100  # never below the minimum
    rows, cols = penalty_window(30, 400, 0.25, generator, "cpu")
    assert rows == slice(0, 30)  # ... and never past the image
    assert penalty_window(224, 224, 1.0, generator, "cpu") == (slice(0, 224), slice(0, 224))
    torch.manual_seed(0)
    critic = PatchCritic(8)
    real, fake = torch.randn(1, 3, 128, 128), torch.randn(4, 3, 128, 128) * 0.7 + 0.2
    whole = [critic_loss(critic, real, fake, 0.1, torch.Generator().manual_seed(k))[1]["gradient_penalty"]
             for k in range(4)]
    window = [critic_loss(critic, real, fake, 0.1, torch.Generator().manual_seed(k), penalty_fraction=0.5)[1][
        "gradient_penalty"] for k in range(4)]
    np.testing.assert_allclose(torch.stack(window).mean(), torch.stack(whole).mean(), rtol=0.1)


def test_mask_net_learns_the_source_mask_on_the_input():
    torch.manual_seed(0)
    rgb, source, _ = disc_scene(64, 64)
    image = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    mask = torch.from_numpy(source.astype(np.float32))[None, None]
    net = MaskPredictor(16)
    opt = torch.optim.Adam(net.parameters(), lr=5e-4, betas=(0.5, 0.999))
    for _ in range(150):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(image), mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
    predicted = torch.sigmoid(net(image))[0, 0].detach().numpy() > 0.5
    iou = (predicted & source).sum() / (predicted | source).sum()
    assert iou > 0.85


def _objective(mode="shape", **overrides):
    torch.manual_seed(0)
    rgb, source, target = disc_scene(64, 64)
    clf = load_classifier("random:resnet18", "cpu")
    ref = clf.normalize(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255)
    src = torch.from_numpy(source.astype(np.float32))[None, None]
    tgt = torch.from_numpy(target.astype(np.float32))[None, None]
    cfg = make_config("tiny", mode, precision="fp32", **overrides)
    return MagicObjective(cfg, clf, ref, src, tgt), ref


def test_every_term_sends_gradient_to_the_images_and_none_to_network_weights():
    objective, _ = _objective(mode="scene")  # scene mode: both TV weights non-zero
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    terms = objective.losses(x, adversarial=True)
    assert set(terms) == set(TERMS)
    for name, value in terms.items():
        (grad,) = torch.autograd.grad(value, x, retain_graph=True)
        assert grad.abs().sum() > 0, name
    grad, values = objective.image_gradient(x, adversarial=True)
    assert grad.shape == x.shape and torch.isfinite(grad).all()
    networks = [objective.mask_net, objective.critic, objective.classifier]
    assert all(p.grad is None for net in networks for p in net.parameters())
    assert not any(p.requires_grad for p in objective.classifier.parameters())


def test_adversarial_term_is_off_before_the_critic_starts():
    objective, _ = _objective()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    assert objective.losses(x, adversarial=False)["adversarial"].item() == 0


def test_class_term_raises_the_probability_of_the_inputs_class():
    objective, _ = _objective(class_weight=1.0)
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.05)
    before = objective.losses(x, False)["class"].item()
    for _ in range(15):
        x.grad = torch.autograd.grad(objective.losses(x, False)["class"], x)[0]
        opt.step()
    assert objective.losses(x, False)["class"].item() < before


def test_mask_term_moves_the_predicted_mask_towards_the_target():
    objective, ref = _objective()
    for _ in range(150):
        objective.train_mask_net_step()
    target = objective.target_mask[0, 0] > 0.5

    def target_iou(images):
        predicted = objective.predicted_mask(images)[:, 0] > 0.5
        return ((predicted & target).sum() / (predicted | target).sum()).item()

    x = ref.expand(2, -1, -1, -1).clone().requires_grad_(True)  # object still on the left
    opt = torch.optim.Adam([x], lr=0.05)
    before = target_iou(x)
    for _ in range(40):
        x.grad = torch.autograd.grad(objective.losses(x, False)["mask"], x)[0]
        opt.step()
    assert target_iou(x) > before + 0.3


@pytest.mark.parametrize("mode,tv1,tv2,adv", [("position", 0, 1e-4, 0.1), ("shape", 0, 1e-4, 0.05),
                                             ("scene", 1e-3, 1e-3, 0.05)])
def test_modes_use_the_official_weights(mode, tv1, tv2, adv):
    cfg = make_config("paper", mode)
    assert (cfg.tv_l1_weight, cfg.tv_l2_weight, cfg.adversarial_weight) == (tv1, tv2, adv)
    assert (cfg.class_weight, cfg.feature_stats_weight, cfg.mask_weight, cfg.l2_weight) == (1.0, 500.0, 30.0, 1e-5)
    assert (cfg.iterations, cfg.variants, cfg.size, cfg.learning_rate) == (18000, 5, 224, 0.2)
    assert cfg.critic_start_step == 5000 and cfg.interleaved_mask_net_steps == 10000
