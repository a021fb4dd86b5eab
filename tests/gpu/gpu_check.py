"""The engine on a GPU, in one call: `make gpu-check` (or `python3 tests/gpu/gpu_check.py`).

Needs only what a GPU machine of ours has: torch (2.11 or newer) with
torchvision, numpy, Pillow, pytest; no pyzmq, no network, nothing built.
Sections, each timed, with the peak GPU memory it took:

  tests      the engine's end-to-end tests with MAGIC_TEST_DEVICE set
  bf16       the objective's terms and gradient in bf16 against fp32
  bench      `bench` at the standard and the paper widths (batch 5, 224 px)
  3mp        a 3 MP edit (the wren moved far along its rock) refined to native resolution
  paper      one full `paper` run on the demo photo (stopped at its time budget
             and extrapolated if it would not fit)

It ends by printing one Markdown table (and writes gpu-check.json into
--out or $OUT, with the `paper` run's results as paper-composite_<i>.png:
docs/benchmarks.md's picture of that preset). `--device cpu --quick` runs every
section at toy sizes on a CPU, which `make test` does, so the script is
tested before a GPU sees it.
A whole run keeps to --deadline seconds (default 450): later sections get
what the earlier ones left.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from magic_engine import load_classifier, make_config, synthesize  # noqa: E402
from magic_engine.bench import run_bench  # noqa: E402
from magic_engine.devices import resolve_device  # noqa: E402
from magic_engine.evaluate.cases import load_case  # noqa: E402
from magic_engine.objective import MagicObjective  # noqa: E402

ENGINE_TESTS = ["tests/test_engine_synthesis.py", "tests/test_engine_patches.py", "tests/test_engine_pyramid.py",
                "tests/test_engine_init.py", "tests/test_engine_region.py"]
QUICK_TESTS = ["tests/test_engine_pyramid.py"]


class Sections:
    """Runs each section with its time and peak memory; a failing section is a row, not a crash."""

    def __init__(self, device: torch.device, deadline: float):
        self.device, self.deadline, self.rows, self.started = device, deadline, [], time.perf_counter()

    def left(self) -> float:
        return self.deadline - (time.perf_counter() - self.started)

    def run(self, name: str, fn):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        began = time.perf_counter()
        try:
            result, ok = fn(), None
        except Exception as exc:  # noqa: BLE001 - the table must still come out
            result, ok = {"result": f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}, False
        seconds = time.perf_counter() - began
        peak = None
        if self.device.type == "cuda":
            peak = round(torch.cuda.max_memory_allocated(self.device) / 2**30, 2)
        passed = result.pop("ok", True) if ok is None else ok
        row = {"section": name, "seconds": round(seconds, 1), "peak_gib": peak, **result, "ok": passed}
        self.rows.append(row)
        print(f"[{name}] {json.dumps(row)}", flush=True)


def engine_tests(device: torch.device, quick: bool, budget: float) -> dict:
    env = dict(os.environ, MAGIC_TEST_DEVICE=str(device), PYTHONUNBUFFERED="1")
    files = QUICK_TESTS if quick else ENGINE_TESTS
    # --noconftest: tests/conftest.py brings the server fixtures, which need pyzmq.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--noconftest", "-p", "no:cacheprovider", *files],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=max(30, budget))
    last = (done.stdout.strip().splitlines() or ["no output"])[-1]
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
    return {"result": last, "failures": failures[:10], "ok": done.returncode == 0}


def bf16_agreement(device: torch.device, quick: bool) -> dict:
    """Terms and image gradient of the full objective, bf16 autocast against fp32, same inputs."""
    size, batch = (64, 2) if quick else (224, 5)
    generator = torch.Generator().manual_seed(0)
    clf = load_classifier("random:resnet50", device)
    reference = clf.normalize(torch.rand(1, 3, size, size, generator=generator).to(device))
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    source = (((yy - size / 2) ** 2 + (xx - size / 3) ** 2) < (size / 5) ** 2).float()[None, None].to(device)
    target = (((yy - size / 2) ** 2 + (xx - 2 * size / 3) ** 2) < (size / 5) ** 2).float()[None, None].to(device)
    x = torch.randn(batch, 3, size, size, generator=generator).to(device).requires_grad_(True)
    results = {}
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        config = make_config("standard", "shape", precision="fp32" if dtype is None else "bf16")
        objective = MagicObjective(config, clf, reference, source, target, dtype, network_seed=0)
        for _ in range(20):
            objective.train_mask_net_step()
        objective.train_critic_step(x)
        grad, terms = objective.image_gradient(x, adversarial=True)
        results[name] = (grad.float(), {k: float(v) for k, v in terms.items()})
    grad32, terms32 = results["fp32"]
    grad16, terms16 = results["bf16"]
    cosine = float(torch.nn.functional.cosine_similarity(grad32.flatten(), grad16.flatten(), dim=0))
    worst = max(abs(terms16[k] - terms32[k]) / max(abs(terms32[k]), 1e-6) for k in terms32 if terms32[k])
    return {"result": f"gradient cosine {cosine:.4f}, worst term rel. diff {worst:.3f}",
            "gradient_cosine": cosine, "worst_term_rel_diff": worst, "ok": cosine > 0.95}


def bench(device: torch.device, quick: bool) -> dict:
    rows = {}
    for preset in ("standard", "paper"):
        figures = run_bench(size=64 if quick else 224, batch=2 if quick else 5, steps=5 if quick else 20,
                            device=str(device), preset=preset, arch="resnet18" if quick else "resnet50",
                            rounds=1 if quick else 3)
        rows[preset] = figures
    text = ", ".join(f"{p} {f['full_s_per_step'] * 1000:.1f} ms/step ({f['ratio']:.2f}x bare ResNet, "
                     f"{f['precision']})" for p, f in rows.items())
    return {"result": text, "figures": rows}


def _three_megapixel_case(quick: bool):
    """The wren case with its target moved far along the rock: a region of about 3 MP (0.1 MP quick)."""
    case = load_case(ROOT / "examples" / "cases" / "wren-rock-move")
    image, source = case.image, case.source
    if quick:  # a quarter of each side
        from PIL import Image
        image = np.asarray(Image.fromarray(image).resize((960, 540), Image.Resampling.LANCZOS))
        source = np.asarray(Image.fromarray(source).resize((960, 540), Image.Resampling.NEAREST))
    shift = image.shape[1] * 1100 // 3840
    target = np.zeros_like(source)
    target[:, :-shift] = source[:, shift:]
    target = np.roll(target, -(image.shape[0] * 60 // 2160), axis=0)
    return image, source, target


def refine_3mp(device: torch.device, quick: bool, classifier) -> dict:
    image, source, target = _three_megapixel_case(quick)
    config = make_config("tiny" if quick else "preview", "position")
    result = synthesize(image, source, target, config, classifier=classifier, device=device, seed=0)
    report = result.report.to_dict()  # its JSON form, as report.json holds it
    width, height = report["region"]["box"][2:]
    refine = report["refine"]
    native = bool(refine["searched_levels"]) and refine["searched_levels"][-1] == [width, height]
    return {"result": f"region {width}x{height} ({width * height / 1e6:.2f} MP), refined to native in "
                      f"{refine['seconds']:.1f} s (whole run {report['total_seconds']:.1f} s, levels "
                      f"{report['levels']})", "refine_seconds": refine["seconds"],
            "total_seconds": report["total_seconds"], "native": native, "ok": native}


def paper_run(device: torch.device, quick: bool, classifier, budget: float, out: Path | None) -> dict:
    case = load_case(ROOT / "examples" / "cases" / "demo-rocket-move")
    config = make_config("tiny" if quick else "paper", case.mode)
    started = time.perf_counter()
    seen = {"step": 0, "total": config.iterations}

    def progress(p):
        if p.phase == "synthesis":
            seen["step"], seen["total"] = p.step, p.total

    def cancel():
        return time.perf_counter() - started > budget

    try:
        result = synthesize(case.image, case.source, case.target, config, classifier=classifier, device=device,
                            seed=0, progress=progress, cancel=cancel)
    except Exception as exc:  # noqa: BLE001
        from magic_engine import Cancelled
        if not isinstance(exc, Cancelled) or not seen["step"]:
            raise
        elapsed = time.perf_counter() - started
        estimate = elapsed / seen["step"] * seen["total"]
        return {"result": f"stopped at step {seen['step']} of {seen['total']} after {elapsed:.0f} s (budget); "
                          f"whole run about {estimate:.0f} s", "total_seconds": None,
                "estimated_seconds": round(estimate, 1), "ok": True}
    report = result.report.to_dict()  # its JSON form, as report.json holds it
    if out is not None:  # the preset's picture: no CPU of ours can make it
        for index, composite in enumerate(result.composites):
            Image.fromarray(composite).save(out / f"paper-composite_{index}.png")
    return {"result": f"{config.iterations} steps, {report['seconds_per_step'] * 1000:.2f} ms/step, whole run "
                      f"{report['total_seconds']:.1f} s (refinement {report['refine']['seconds']:.1f} s)",
            "total_seconds": report["total_seconds"], "seconds_per_step": report["seconds_per_step"]}


def table(rows: list, header: str) -> str:
    lines = [header, "", "| section | result | seconds | peak GPU memory |", "|---|---|---:|---:|"]
    for row in rows:
        memory = "–" if row["peak_gib"] is None else f"{row['peak_gib']} GiB"
        mark = "" if row["ok"] else " **(check)**"
        lines.append(f"| {row['section']} | {row['result']}{mark} | {row['seconds']} | {memory} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--quick", action="store_true", help="toy sizes (for testing this script on a CPU)")
    parser.add_argument("--deadline", type=float, default=450.0, help="seconds the whole check may take")
    parser.add_argument("--out", default=os.environ.get("OUT"), help="folder for gpu-check.json (default $OUT)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    header = (f"gpu-check on {name}, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}"
              + (" (quick)" if args.quick else ""))
    print(header, flush=True)
    sections = Sections(device, args.deadline)
    classifier = load_classifier("random", device)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    sections.run("tests", lambda: engine_tests(device, args.quick, sections.left() * 0.35))
    sections.run("bf16", lambda: bf16_agreement(device, args.quick))
    sections.run("bench", lambda: bench(device, args.quick))
    sections.run("3mp", lambda: refine_3mp(device, args.quick, classifier))
    sections.run("paper", lambda: paper_run(device, args.quick, classifier, max(10.0, sections.left() - 15), out))
    text = table(sections.rows, header)
    if out is not None:
        (out / "gpu-check.json").write_text(json.dumps({"header": header, "rows": sections.rows}, indent=2))
    print("\n" + text)
    return 0 if all(row["ok"] for row in sections.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
