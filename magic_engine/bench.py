"""Speed of the full MAGIC objective against the bare classifier, side by side.

The reference ("classifier") is a bare torchvision network in fp32: forward,
cross-entropy, backward to the input, weights frozen. That is the yardstick
the targets are set in. For transparency the engine's own classifier wrapper
(folded BatchNorm, the run's precision and memory layout) is timed too.
All are timed in one process, interleaved round by round, so the ratios
hold on a busy machine. The full step is what a run does once the critic is
active: a critic update every `critic_every` steps (amortised), all five
terms, their gradient to x' and the Adam step.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from .classifier import build_architecture, load_classifier
from .config import make_config
from .devices import resolve_device, resolve_precision
from .objective import MagicObjective


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, steps: int, device: torch.device) -> float:
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    _synchronize(device)
    return (time.perf_counter() - start) / steps


def run_bench(size: int = 224, batch: int = 5, steps: int = 10, device: str = "auto", preset: str = "standard",
              arch: str = "resnet50", rounds: int = 3, precision: str | None = None) -> dict:
    config = make_config(preset, "shape", variants=batch, size=size, precision=precision)
    steps = max(config.critic_every, steps - steps % config.critic_every)  # whole critic cycles
    torch_device = resolve_device(device)
    autocast_dtype = resolve_precision(config.precision, torch_device)
    clf = load_classifier(f"random:{arch}", torch_device)  # weights do not change the speed
    bare = build_architecture(arch).eval().to(torch_device)
    for p in bare.parameters():
        p.requires_grad_(False)

    rng = np.random.default_rng(0)
    reference = clf.normalize(torch.from_numpy(rng.random((1, 3, size, size), dtype=np.float32)).to(torch_device))
    yy, xx = np.mgrid[:size, :size] / size
    source = torch.from_numpy(((yy - 0.5) ** 2 + (xx - 0.35) ** 2 < 0.04).astype(np.float32))[None, None]
    target = torch.from_numpy(((yy - 0.5) ** 2 + (xx - 0.65) ** 2 < 0.04).astype(np.float32))[None, None]
    objective = MagicObjective(config, clf, reference, source.to(torch_device), target.to(torch_device),
                               autocast_dtype)
    x = torch.randn(batch, 3, size, size, device=torch_device, requires_grad=True)
    optimizer = torch.optim.Adam([x], lr=1e-3)
    counter = {"step": 0}

    def full_step():
        if counter["step"] % config.critic_every == 0:
            objective.train_critic_step(x)
        counter["step"] += 1
        grad, _ = objective.image_gradient(x, adversarial=True)
        x.grad = grad
        optimizer.step()

    def bare_classifier_step():
        loss = F.cross_entropy(bare(x), objective.target_class.expand(batch))
        (grad,) = torch.autograd.grad(loss, x)
        x.grad = grad
        optimizer.step()

    def our_classifier_step():
        with objective.autocast():
            logits, _ = clf(objective._layout(x))
        loss = F.cross_entropy(logits.float(), objective.target_class.expand(batch))
        (grad,) = torch.autograd.grad(loss, x)
        x.grad = grad
        optimizer.step()

    timings = {fn: [] for fn in (full_step, bare_classifier_step, our_classifier_step)}
    for fn in timings:  # warm-up: allocator, oneDNN/cuDNN plans
        _timed(fn, config.critic_every, torch_device)
    for _ in range(rounds):
        for fn, times in timings.items():
            times.append(_timed(fn, steps, torch_device))
    full_s, clf_s, ours_s = (statistics.median(times) for times in timings.values())
    return {
        "device": str(torch_device),
        "torch_threads": torch.get_num_threads(),
        "precision": str(autocast_dtype).replace("torch.", "") if autocast_dtype else "fp32",
        "channels_last": config.channels_last,
        "preset": preset,
        "mask_net_width": config.mask_net_width,
        "size": size,
        "batch": batch,
        "steps_per_round": steps,
        "rounds": rounds,
        "arch": arch,
        "full_s_per_step": round(full_s, 4),
        "classifier_s_per_step": round(clf_s, 4),
        "ratio": round(full_s / clf_s, 3),
        "engine_classifier_s_per_step": round(ours_s, 4),
        "ratio_to_engine_classifier": round(full_s / ours_s, 3),
    }
