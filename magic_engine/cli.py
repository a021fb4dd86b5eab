"""Command line: `python -m magic_engine synthesize|bench|demo|evaluate ...`."""

from __future__ import annotations

import argparse
import ast
import json
import logging
import sys
import warnings
from pathlib import Path

from PIL import Image

from .config import MODES, PRESET_NAMES, make_config, preset_summaries
from .devices import DEVICE_CHOICES
from .errors import Cancelled, ConfigError, MagicError
from .progress import TerminalProgressBar, format_seconds


def _add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=MODES, default="position",
                        help="position: move/copy the object; shape: reshape it; scene: reshape a repetitive scene")
    parser.add_argument("--preset", choices=PRESET_NAMES, default="preview",
                        help="; ".join(f"{k}: {v['summary']}" for k, v in preset_summaries().items()))
    parser.add_argument("--variants", type=int, help="number of results (the preset's by default)")
    parser.add_argument("--size", type=int, help="working resolution in px (about size x size pixels)")
    parser.add_argument("--iterations", type=int, help="optimisation steps (the preset's by default)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same device: same result")
    parser.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                        help="numeric precision of the networks (auto: bf16 where fast)")
    parser.add_argument("--classifier", default="auto",
                        help="auto (installed weights, else random), random, random:ARCH, a torchvision "
                             "model name, or a checkpoint path")
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help="allow a checkpoint that holds pickled objects (only for files you trust)")
    add_set_argument(parser)


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="overrides",
                        help="override any MagicConfig field, e.g. --set mask_net_width=64 (repeatable)")


def parse_overrides(items) -> dict:
    """["a=1", "b=fp32", "c=(0.5, 0.9)"] -> {"a": 1, "b": "fp32", "c": (0.5, 0.9)}."""
    overrides = {}
    for item in items or ():
        field, sep, text = item.partition("=")
        if not sep or not field.strip():
            raise ConfigError(f"--set takes FIELD=VALUE, got {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare word such as fp32 or upfront
        overrides[field.strip()] = value
    return overrides


def _config_from_args(args):
    fields = {"variants": args.variants, "size": args.size, "iterations": args.iterations,
              "precision": args.precision}
    fields.update(parse_overrides(args.overrides))
    return make_config(args.preset, args.mode, **fields)


def write_outputs(result, out_dir: Path) -> list:
    """variant_<i>.png, composite_<i>.png and report.json; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (variant, comp) in enumerate(zip(result.variants, result.composites)):
        for name, pixels in ((f"variant_{i}.png", variant), (f"composite_{i}.png", comp)):
            Image.fromarray(pixels).save(out_dir / name)
            written.append(out_dir / name)
    report_path = out_dir / "report.json"
    report_path.write_text(json.dumps(result.report, indent=2) + "\n", encoding="utf-8")
    written.append(report_path)
    return written


def _synthesize(args) -> int:
    from .synthesis import synthesize

    config = _config_from_args(args)
    result = synthesize(args.image, args.source_mask, args.target_mask, config, classifier=args.classifier,
                        device=args.device, seed=args.seed, progress=TerminalProgressBar(),
                        trust_checkpoint=args.trust_checkpoint)
    write_outputs(result, Path(args.out))
    for note in result.report["notes"]:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {len(result.variants)} variants to {args.out} in "
          f"{format_seconds(result.report['total_seconds'])} ({result.report['seconds_per_step']} s/step "
          f"on {result.report['device']})")
    return 0


def _bench(args) -> int:
    from .bench import run_bench

    figures = run_bench(size=args.size, batch=args.batch, steps=args.steps, device=args.device,
                        preset=args.preset, arch=args.arch, rounds=args.rounds,
                        precision=args.precision)
    print(json.dumps(figures))
    return 0


def _demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.out), Path(args.case), preset=args.preset, classifier=args.classifier, device=args.device,
             seed=args.seed, overrides={"variants": args.variants, "iterations": args.iterations,
                                        **parse_overrides(args.overrides)})
    return 0


def _evaluate(args) -> int:
    from .evaluate.cli import run_from_args

    return run_from_args(args)


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

    from .demo import DEFAULT_CASE

    demo = commands.add_parser("demo", help="run MAGIC on the bundled example and make a contact sheet")
    demo.add_argument("--out", default="out/demo")
    demo.add_argument("--case", default=str(DEFAULT_CASE), help="a case folder (see examples/README.md)")
    demo.add_argument("--preset", choices=PRESET_NAMES, default="preview")
    demo.add_argument("--variants", type=int)
    demo.add_argument("--iterations", type=int)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default="auto")
    demo.add_argument("--classifier", default="auto")
    add_set_argument(demo)
    demo.set_defaults(run=_demo)

    from .evaluate.cli import add_arguments

    evaluate = commands.add_parser("evaluate", help="score the engine and two baselines on a set of cases")
    add_arguments(evaluate)
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
