"""The MAGIC objective: five terms on a batch of images x' (normalised space).

What the official code recomputes every step is computed once here: the
input's class, its feature statistics, and the real image for the critic
(a single copy: BatchNorm statistics of identical copies equal one's).
Gradients go to x' alone (`torch.autograd.grad`), never to network weights,
except in the two networks' own training steps.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F

from .classifier import FeatureClassifier
from .config import MagicConfig
from .losses import channel_statistics, critic_loss, feature_statistics_loss, l2_prior, total_variation
from .networks import MaskPredictor, PatchCritic

TERMS = ("class", "feature_stats", "mask", "adversarial", "tv_l1", "tv_l2", "l2")


class MagicObjective:
    def __init__(self, config: MagicConfig, classifier: FeatureClassifier, reference: torch.Tensor,
                 source_mask: torch.Tensor, target_mask: torch.Tensor, autocast_dtype=None,
                 network_seed: int = 0):
        """reference: (1, 3, h, w) input region, normalised; masks: (1, 1, h, w) in {0, 1}."""
        self.config = config
        self.device = reference.device
        self.autocast_dtype = autocast_dtype
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        # The critic stays NCHW on the CPU: its WGAN-GP update differentiates
        # BatchNorm twice, and that double backward sums over the batch
        # dimension, which PyTorch's CPU kernels do about 20x slower on
        # channels-last tensors (the update took 1.7 s instead of 2.4 s).
        self.critic_memory_format = (torch.contiguous_format if self.device.type == "cpu"
                                     else self.memory_format)
        self.classifier = classifier.to(memory_format=self.memory_format)
        self.reference = reference
        self.source_mask = source_mask
        self.target_mask = target_mask

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(network_seed)
            self.mask_net = MaskPredictor(config.mask_net_width)
            self.critic = PatchCritic(config.critic_width)
        self.mask_net.to(self.device, memory_format=self.memory_format).train()
        self.critic.to(self.device, memory_format=self.critic_memory_format).train()
        self.mask_optimizer = torch.optim.Adam(
            self.mask_net.parameters(), lr=config.mask_net_learning_rate, betas=config.mask_net_betas)
        self.critic_optimizer = torch.optim.Adam(
            self.critic.parameters(), lr=config.critic_learning_rate, betas=config.critic_betas)
        self.generator = torch.Generator(device=self.device).manual_seed(network_seed + 1)

        with torch.no_grad(), self.autocast():
            logits, features = self.classifier(self._layout(reference))
        self.target_class = logits.float().argmax(dim=1)  # the class the classifier sees in the input
        levels = config.feature_levels
        self.reference_stats = [tuple(s.detach() for s in channel_statistics(features[i])) for i in levels]

    # ------------------------------------------------------------ helpers

    def autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=self.memory_format)

    def _critic_layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=self.critic_memory_format)

    # ------------------------------------------------------------ training of the helpers

    def train_mask_net_step(self) -> float:
        """One update of the image-to-mask network on (input, source mask).
        Runs in fp32: in bf16 it fitted thin objects worse (IoU on the input
        0.92 against 0.98 for the rocket case), and one image is cheap."""
        logits = self.mask_net(self._layout(self.reference))
        loss = F.binary_cross_entropy_with_logits(logits.float(), self.source_mask)
        self.mask_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.mask_optimizer.step()
        return loss.detach()

    def train_critic_step(self, x: torch.Tensor) -> dict:
        """One WGAN-GP update of the patch critic: input patches vs x' patches.
        Runs in fp32: double backward through low-precision convs is fragile."""
        loss, stats = critic_loss(self.critic, self._critic_layout(self.reference), self._critic_layout(x.detach()),
                                  self.config.gradient_penalty_weight, generator=self.generator,
                                  penalty_fraction=self.config.gradient_penalty_fraction)
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_optimizer.step()
        return stats

    # ------------------------------------------------------------ the objective

    def losses(self, x: torch.Tensor, adversarial: bool) -> dict:
        """Unweighted value of each term for the batch x (B, 3, h, w)."""
        cfg = self.config
        batch = x.shape[0]
        xl = self._layout(x)
        terms = {}
        with self.autocast():
            logits, features = self.classifier(xl)
            mask_logits = self.mask_net(xl)
            critic_scores = self.critic(self._critic_layout(x)) if adversarial else None
        terms["class"] = F.cross_entropy(logits.float(), self.target_class.expand(batch))
        terms["feature_stats"] = feature_statistics_loss([features[i] for i in cfg.feature_levels],
                                                         self.reference_stats)
        terms["mask"] = F.binary_cross_entropy_with_logits(
            mask_logits.float(), self.target_mask.expand(batch, -1, -1, -1))
        terms["adversarial"] = -critic_scores.float().mean() if adversarial else x.new_zeros(())
        terms["tv_l1"], terms["tv_l2"] = total_variation(x)
        terms["l2"] = l2_prior(x)
        return terms

    def weighted_total(self, terms: dict) -> torch.Tensor:
        cfg = self.config
        weights = {
            "class": cfg.class_weight,
            "feature_stats": cfg.feature_stats_weight,
            "mask": cfg.mask_weight,
            "adversarial": cfg.adversarial_weight,
            "tv_l1": cfg.tv_l1_weight,
            "tv_l2": cfg.tv_l2_weight,
            "l2": cfg.l2_weight,
        }
        return sum(weights[name] * value for name, value in terms.items() if weights[name])

    def image_gradient(self, x: torch.Tensor, adversarial: bool):
        """-> (d total / d x, unweighted terms). No weight gradients are made."""
        terms = self.losses(x, adversarial)
        total = self.weighted_total(terms)
        (grad,) = torch.autograd.grad(total, x)
        terms["total"] = total
        return grad, {k: v.detach() for k, v in terms.items()}

    def predicted_mask(self, x: torch.Tensor) -> torch.Tensor:
        """Mask net's probability map for x (diagnostics, tests)."""
        with torch.no_grad(), self.autocast():
            return torch.sigmoid(self.mask_net(self._layout(x)).float())
