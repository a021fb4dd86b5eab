"""Command line: `python -m magic_engine synthesize|bench|demo|evaluate ...`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

from magic_common.choices import DEFAULT_MODE, DEFAULT_PRESET

from .bench import run_bench
from .config import MODES, PRESET_NAMES, make_config, preset_summaries
from .demo import DEFAULT_CASE, run_demo
from .devices import DEVICE_CHOICES
from .errors import Cancelled, MagicError
from .evaluate.cli import add_arguments as add_evaluate_arguments
from .evaluate.cli import run_from_args as run_evaluation_from_args
from .overrides import add_set_argument, parse_overrides
from .progress import TerminalProgressBar, format_seconds
from .synthesis import synthesize


def _add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE,
                        help="position: move/copy the object; shape: reshape it; scene: reshape a repetitive scene")
    parser.add_argument("--preset", choices=PRESET_NAMES, default=DEFAULT_PRESET,
                        help="; ".join(f"{k}: {v['summary']}" for k, v in preset_summaries().items()))
    parser.add_argument("--variants", type=int, help="number of results (the preset's by default)")
    parser.add_argument("--size", type=int, help="working resolution in px (about size x size pixels)")
    parser.add_argument("--iterations", type=int, help="optimisation steps (the preset's by default)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same device, same CPU thread count: same result")
    parser.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                        help="numeric precision of the networks (auto: bf16 where fast)")
    parser.add_argument("--classifier", default="auto",
                        help="auto (installed weights, else random), random, random:ARCH, a torchvision "
                             "model name, or a checkpoint path")
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help="allow a checkpoint that holds pickled objects (only for files you trust)")
    add_set_argument(parser)


def _config_from_args(args):
    fields = {"variants": args.variants, "size": args.size, "iterations": args.iterations,
              "precision": args.precision}
    fields.update(parse_overrides(args.overrides))
    return make_config(args.preset, args.mode, **fields)


def _synthesize(args) -> int:
    config = _config_from_args(args)
    result = synthesize(args.image, args.source_mask, args.target_mask, config, classifier=args.classifier,
                        device=args.device, seed=args.seed, progress=TerminalProgressBar(),
                        trust_checkpoint=args.trust_checkpoint)
    result.save(Path(args.out))
    report = result.report
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {len(result.variants)} variants to {args.out} in "
          f"{format_seconds(report.times.total)} ({report.times.per_step:.4f} s/step on {report.device})")
    return 0


def _bench(args) -> int:
    figures = run_bench(size=args.size, batch=args.batch, steps=args.steps, device=args.device,
                        preset=args.preset, arch=args.arch, rounds=args.rounds,
                        precision=args.precision)
    print(json.dumps(figures))
    return 0


def _demo(args) -> int:
    run_demo(Path(args.out), Path(args.case), preset=args.preset, classifier=args.classifier, device=args.device,
             seed=args.seed, overrides={"variants": args.variants, "iterations": args.iterations,
                                        **parse_overrides(args.overrides)})
    return 0


def _evaluate(args) -> int:
    return run_evaluation_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m magic_engine", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    syn = commands.add_parser("synthesize", help="run MAGIC on one image")
    syn.add_argument("--image", required=True)
    syn.add_argument("--source-mask", required=True, help="white = the object as it is now")
    syn.add_argument("--target-mask", required=True, help="white = where / in what shape it should be")
    syn.add_argument("--out", required=True, help="output folder")
    _add_engine_arguments(syn)
    syn.set_defaults(run=_synthesize)

    bench = commands.add_parser("bench", help="time the full objective against the bare classifier")
    bench.add_argument("--size", type=int, default=224)
    bench.add_argument("--batch", type=int, default=5)
    bench.add_argument("--steps", type=int, default=10, help="steps per timed round")
    bench.add_argument("--rounds", type=int, default=3)
    bench.add_argument("--device", default="auto")
    bench.add_argument("--preset", choices=PRESET_NAMES, default="standard",
                       help="whose network widths and precision to time (paper: the official networks)")
    bench.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"))
    bench.add_argument("--arch", default="resnet50", help="classifier architecture (weights do not change the speed)")
    bench.set_defaults(run=_bench)

    demo = commands.add_parser("demo", help="run MAGIC on the bundled example and make a contact sheet")
    demo.add_argument("--out", default="out/demo")
    demo.add_argument("--case", default=str(DEFAULT_CASE), help="a case folder (see examples/README.md)")
    demo.add_argument("--preset", choices=PRESET_NAMES, default=DEFAULT_PRESET)
    demo.add_argument("--variants", type=int)
    demo.add_argument("--iterations", type=int)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default="auto")
    demo.add_argument("--classifier", default="auto")
    add_set_argument(demo)
    demo.set_defaults(run=_demo)

    evaluate = commands.add_parser("evaluate", help="score the engine and two baselines on a set of cases")
    add_evaluate_arguments(evaluate)
    evaluate.set_defaults(run=_evaluate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    warnings.simplefilter("ignore")  # warnings are also logged; don't print them twice
    try:
        return args.run(args)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MagicError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
