"""Learning-rate policy of the image optimisation (official `lr_cosine_policy`)."""

import math


def cosine_with_warmup(step: int, total: int, warmup: int, base: float) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay reaching 0 at `total`.

    `step` counts from 0. A run shorter than its warm-up only warms up.
    """
    if step < warmup:
        return base * (step + 1) / warmup
    span = max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / span)) * base
