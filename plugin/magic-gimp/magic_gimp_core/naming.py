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


def group_name(run: int, mode: str, preset: str, seed: int) -> str:
    """run counts the image's MAGIC runs from 1 (`next_run`): it comes first, so
    the groups of two runs differ in what the Layers dock shows."""
    return f"Run {run}: MAGIC {mode}, {preset}, seed {seed}"


def next_run(earlier: list) -> int:
    """The number of a new run, given the run numbers of the image's earlier
    result groups (None for a group that carries none): one more than any of
    them and than their count, so no two runs share a number."""
    return max([len(earlier)] + [run for run in earlier if run is not None]) + 1


def layer_name(mode: str, preset: str, seed: int, index: int) -> str:
    """index counts from 1, in the order the server returned the variants."""
    return f"#{index} {mode}, {preset}, seed {seed}"
