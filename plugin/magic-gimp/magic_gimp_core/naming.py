"""Names of the result group and layers, so a result says how it was made,
and the part that tells them apart comes first: in its default width GIMP's
Layers dock shows about ten characters of a top-level name and three of a
layer inside a group (beside its layer-mask thumbnail)."""

from __future__ import annotations

import random

SEED_RANDOM = -1  # the seed argument's "pick one for me" value
SEED_MAX = 2**31 - 1


def resolve_seed(seed: int, rng: random.Random | None = None) -> int:
    """A concrete seed: `seed` itself, or a fresh one for SEED_RANDOM.
    The seed used is always written in the layer names, so any result can
    be made again."""
    if seed == SEED_RANDOM:
        return (rng or random.SystemRandom()).randint(0, 999_999)
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be {SEED_RANDOM} (random) or 0..{SEED_MAX}, got {seed}")
    return seed


def group_name(mode: str, preset: str, seed: int) -> str:
    return f"MAGIC {mode} ({preset}, seed {seed})"


def layer_name(mode: str, preset: str, seed: int, index: int) -> str:
    """index counts from 1, in the order the server returned the variants."""
    return f"#{index} {mode}, {preset}, seed {seed}"
