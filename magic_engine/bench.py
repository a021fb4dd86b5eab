"""Speed of the full MAGIC objective against the bare classifier, side by side.

Both are timed in the same process, interleaved round by round, with the same
classifier, precision and memory layout, so the ratio holds even on a busy
machine. The full step is what a run does once the critic is active: the
critic update every `critic_every` steps (amortised), then all five terms,
their gradient to x' and the Adam step.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from .classifier import load_classifier
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


def run_bench(size: int = 224, batch: int = 5, steps: int = 10, device: str = "auto", preset: str = "paper",
              classifier: str = "random", rounds: int = 3, precision: str | None = None) -> dict:
    config = make_config(preset, "shape", variants=batch, size=size, precision=precision)
    steps = max(config.critic_every, steps - steps % config.critic_every)  # whole critic cycles
    torch_device = resolve_device(device)
    autocast_dtype = resolve_precision(config.precision, torch_device)
    clf = load_classifier(classifier, torch_device)

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

    def classifier_step():
        xl = objective._layout(x)
        with objective.autocast():
            logits, _ = clf(xl)
        loss = F.cross_entropy(logits.float(), objective.target_class.expand(batch))
        (grad,) = torch.autograd.grad(loss, x)
        x.grad = grad
        optimizer.step()

    for fn in (full_step, classifier_step):  # warm-up: allocator, oneDNN/cuDNN plans
        _timed(fn, config.critic_every, torch_device)
    full_times, clf_times = [], []
    for _ in range(rounds):
        full_times.append(_timed(full_step, steps, torch_device))
        clf_times.append(_timed(classifier_step, steps, torch_device))
    full_s, clf_s = statistics.median(full_times), statistics.median(clf_times)
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
        "full_s_per_step": round(full_s, 4),
        "classifier_s_per_step": round(clf_s, 4),
        "ratio": round(full_s / clf_s, 3),
    }
