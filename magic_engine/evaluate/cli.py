"""`python -m magic_engine evaluate`: score the engine against two baselines on a set of cases.

The engine's CLI adds this as a subcommand with `add_arguments` and
`run_from_args`; `python -m magic_engine.evaluate` runs it on its own.
"""

from __future__ import annotations

import argparse
import sys

from magic_common.choices import DEFAULT_PRESET

from ..config import PRESET_NAMES
from ..devices import DEVICE_CHOICES
from ..errors import MagicError
from ..overrides import add_set_argument, parse_overrides
from .cases import find_cases
from .run import run_evaluation

DESCRIPTION = ("Run MAGIC and three baselines (paste + heal, copy-paste, noise) on every case in --cases and "
               "write report.json, table.md, sheet.png and closeups.png into --out: mask adherence (IoU), "
               "object intact, detail, hole texture, patch fidelity (sliced Wasserstein on 7x7 patches) and "
               "diversity.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", default="examples/cases",
                        help="a folder of case folders, or one case folder (default: examples/cases)")
    parser.add_argument("--out", default="out/evaluate", help="output folder (default: out/evaluate)")
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESET_NAMES,
                        help="engine preset (default: %(default)s)")
    parser.add_argument("--classifier", default="auto",
                        help="classifier the engine inverts: auto (installed weights, else an untrained "
                             "ResNet-50 with a warning), random:ARCH, or a checkpoint path")
    parser.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="engine seed (default: 0)")
    parser.add_argument("--variants", type=int, help="override the preset's number of variants")
    parser.add_argument("--iterations", type=int, help="override the preset's number of steps")
    parser.add_argument("--case", action="append", dest="case_names", metavar="NAME",
                        help="evaluate only this case (repeatable)")
    add_set_argument(parser)


def run_from_args(args: argparse.Namespace) -> int:
    try:
        cases = find_cases(args.cases, getattr(args, "case_names", None))
        run_evaluation(cases, args.out, preset=args.preset, classifier=args.classifier, device=args.device,
                       seed=args.seed, variants=args.variants, iterations=args.iterations,
                       overrides=parse_overrides(args.overrides))
    except MagicError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted; the cases finished so far are in {args.out}", file=sys.stderr)
        return 130
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m magic_engine.evaluate", description=DESCRIPTION)
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))
