"""One MAGIC run: from an image and two masks to several composited variants."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from magic_common.phases import MASK_NET, REFINE, SYNTHESIS
from magic_common.region import widened

from .classifier import FeatureClassifier, load_classifier
from .config import MagicConfig, make_config
from .devices import resolve_device, resolve_precision
from .errors import Cancelled, MagicError
from .estimate import refine_seconds
from .fill import FILL_REACH, Surroundings
from .init import starting_images
from .inputs import PreparedInput, prepare_inputs
from .margins import fade_margins, loose_matte
from .matte import matte_composite
from .objective import MagicObjective
from .progress import Progress
from .pyramid import Level, levels_for, resize_mask
from .refine import RefineSettings, RegionImages, refine
from .region import Box, blend_weights, choose_region, composite, edit_margins
from .report import RunReport, RunTimes
from .schedule import cosine_with_warmup
from .transparency import keep_transparency

_PREVIEW_SIDE = 160


@dataclass
class SynthesisResult:
    variants: list  # uint8 (h, w, 3) per variant: the region, at its own resolution
    composites: list  # uint8 (H, W, 3|4) per variant, the full input with the edit blended in
    edit_mask: np.ndarray  # uint8 (H, W): 255 where results replace the input, 0 where input is kept
    region: Box
    report: RunReport

    def save(self, out_dir: Path) -> list:
        """variant_<i>.png, composite_<i>.png and report.json; returns the paths."""
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for i, (variant, comp) in enumerate(zip(self.variants, self.composites)):
            for name, pixels in ((f"variant_{i}.png", variant), (f"composite_{i}.png", comp)):
                Image.fromarray(pixels).save(out_dir / name)
                written.append(out_dir / name)
        report_path = out_dir / "report.json"
        report_path.write_text(json.dumps(self.report.to_dict(), indent=2) + "\n", encoding="utf-8")
        written.append(report_path)
        return written


def _cancel_requested(cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return cancel.is_set()
    return bool(cancel())


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [0, 1] -> uint8 (B, H, W, 3)."""
    return (images.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def _preview(z: torch.Tensor, classifier: FeatureClassifier) -> np.ndarray:
    first = z[:1].detach().float()
    scale = _PREVIEW_SIDE / max(first.shape[-2:])
    if scale < 1:
        first = torch.nn.functional.interpolate(first, scale_factor=scale, mode="area")
    return _to_uint8(classifier.denormalize(first))[0]


class _Clock:
    """Elapsed time and an ETA from the recent step rate of each phase."""

    def __init__(self):
        self.start = time.perf_counter()
        self.phase_start = self.start

    def begin_phase(self):
        self.phase_start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def eta(self, done: int, total: int, later_phase_s: float | None = 0.0):
        if done == 0 or later_phase_s is None:
            return None
        per_step = (time.perf_counter() - self.phase_start) / done
        return per_step * (total - done) + later_phase_s


def _region_images(inputs: PreparedInput, region: Box, band: int, device, notes: list) -> tuple:
    """-> (RegionImages, the object's matte over the region or None). A soft selection is
    its own matte; a hard one drawn loosely has the background it holds let go
    (margins.loose_matte), which also stays where it is at the old place."""
    ys, xs = region.slices
    photo = torch.from_numpy(np.array(inputs.rgb[ys, xs])).to(device)
    source = torch.from_numpy(np.array(inputs.source[ys, xs])).to(device)
    target = torch.from_numpy(np.array(inputs.target[ys, xs])).to(device)
    photo = photo.permute(2, 0, 1).float().div(255)
    if inputs.source_matte is not None:
        matte = torch.from_numpy(np.array(inputs.source_matte[ys, xs])).to(device).float().div(255)
        return RegionImages.of(photo, source, target, band), matte
    # A cut-out's own alpha is the object's edge (transparency.py): no matte is guessed there.
    matte = loose_matte(photo, source, target) if inputs.alpha is None else None
    if matte is None:
        return RegionImages.of(photo, source, target, band), None
    notes.append(f"the source selection holds background along its loose outline: "
                 f"{100 * float(1 - matte[source].mean()):.0f} % of it looks like the background "
                 f"around it and is let go, so the object arrives without it and it stays at the old place")
    return RegionImages.of(photo, source, target, band, leaves=matte > 0), matte


def _surroundings(inputs: PreparedInput, region: Box, level: Level, device) -> Surroundings:
    """The photo around `region` (FILL_REACH beyond it) at `level`'s scale, for filling holes.

    Its margins are whole level pixels, so the region's window lies exactly on
    the region's own level grid: the photo's box for them is fractional, and
    Pillow resamples that box at the level's scale (in 8 bits, antialiased,
    so a large photo is never held in floats at full size).
    """
    around = widened(region, FILL_REACH, inputs.width, inputs.height)
    scale_x, scale_y = level.width / region.width, level.height / region.height
    left, top = math.floor((region.left - around.left) * scale_x), math.floor((region.top - around.top) * scale_y)
    right = math.floor((around.right - region.right) * scale_x)
    bottom = math.floor((around.bottom - region.bottom) * scale_y)
    box = (region.left - left / scale_x, region.top - top / scale_y,
           region.right + right / scale_x, region.bottom + bottom / scale_y)
    crop = Box(math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3]))
    size = (left + level.width + right, top + level.height + bottom)
    pixels = np.asarray(Image.fromarray(inputs.rgb[crop.slices]).resize(
        size, Image.BICUBIC, box=(box[0] - crop.left, box[1] - crop.top, box[2] - crop.left, box[3] - crop.top)))
    photo = torch.from_numpy(pixels.copy()).to(device).permute(2, 0, 1).float().div(255)
    return Surroundings(photo, top, left)


def look_alikes(objective: MagicObjective, clf: FeatureClassifier, photo: torch.Tensor) -> torch.Tensor:
    """bool (H, W): where MAGIC's image-to-mask network, trained on the object, sees it
    in `photo` (3, H, W) (another dandelion of the meadow): the hole fill copies none
    of it (hole.background_keys), so no ghost of the object appears where it left."""
    return objective.predicted_mask(clf.normalize(photo[None]))[0, 0] > 0.5


@dataclass
class _Run:
    """What a run works on, fixed before it starts: the inputs, the region and its scales,
    the classifier and the objective."""

    config: MagicConfig
    inputs: PreparedInput
    region: Box
    band: int  # px the edit area reaches beyond both masks (region.edit_margins)
    feather: int  # px over which the results fade into the photo inside the edit area's edge
    levels: list  # Level, level 0 (the classifier's scale) first
    native: RegionImages  # the region at its own resolution
    coarse: RegionImages  # the region at level 0
    matte: torch.Tensor | None  # (h, w) the object's opacity over the region (matte.py); None: the selection is it
    clf: FeatureClassifier
    device: torch.device
    autocast_dtype: torch.dtype | None
    generator: torch.Generator
    objective: MagicObjective
    notes: list

    @property
    def carry_change(self) -> bool:
        """Whether MAGIC's optimisation means something to carry to the results:
        an untrained classifier's gradients are texture statistics only, so from
        a copy start its change is drift, and the results carry the start."""
        return self.clf.trained or self.config.init != "copy"


class _Events:
    """A run's progress reports (with elapsed time) and its cancel checks."""

    def __init__(self, progress, cancel):
        self.clock = _Clock()
        self._progress = progress
        self._cancel = cancel

    @property
    def wanted(self) -> bool:
        return self._progress is not None

    def report(self, phase, step, total, losses, eta, preview=None):
        if self._progress is not None:
            values = {k: float(v) for k, v in losses.items()}
            self._progress(Progress(phase, step, total, values, self.clock.elapsed(), eta, preview))

    def check_cancel(self, where: str):
        if _cancel_requested(self._cancel):
            raise Cancelled(f"cancelled {where}")


@dataclass
class _Start:
    images: torch.Tensor  # (B, 3, h0, w0) the starting images x'0, normalised for the classifier
    background_starts: list  # per variant, the copy start's BackgroundStart (None: not a copy start)
    seconds: float


def synthesize(image, source_mask, target_mask, config: MagicConfig | None = None, *,
               classifier="auto", device="auto", seed: int = 0, progress=None, cancel=None,
               trust_checkpoint: bool = False) -> SynthesisResult:
    """Run MAGIC on `image` moving/reshaping what `source_mask` covers into `target_mask`.

    image: path, PIL image or uint8 (H, W, 3|4) array; masks: path, PIL image
    or (H, W) array, same size as the image (thresholded at 50 %; a soft source
    mask's edge is the object's opacity at the new place, see matte.py).
    classifier: "auto", "random", "random:ARCH", a torchvision name, a
    checkpoint path, or a loaded FeatureClassifier (reuse it across runs).
    progress: called with a `Progress` now and then. cancel: a
    threading.Event or a callable; checked before every step, a cancelled run
    raises `Cancelled`. The same seed on the same device, with the same
    number of CPU threads, gives the same result, bit for bit (fp32; bf16
    too, except on CPUs with AMX, whose oneDNN kernels round differently
    from run to run); another thread count sums in another order and
    changes low bits.

    The objective is optimised at level 0 (the classifier's scale); the
    result is then carried to the region's own resolution with the photo's
    own patches (refine.py). Variants are at the region's resolution.
    """
    config = config or make_config()
    events = _Events(progress, cancel)
    run = _prepare(image, source_mask, target_mask, config, classifier, device, seed, trust_checkpoint)
    times = RunTimes()
    events.check_cancel("before the start")
    times.mask_net = _fit_mask_net(run, events)
    start = _starting_images(run, events)
    times.start = start.seconds
    times.refine_estimate = refine_seconds(config, run.levels, float(run.native.free.sum()),
                                           float(run.coarse.free.sum()), start.seconds)
    optimised, final_losses, times.per_step = _optimise(run, start.images, times.refine_estimate, events)
    refined, backgrounds, refine_report = _refine(run, _to_carry(run, optimised, start), start.background_starts,
                                                  events)
    variants, composites, edit_mask, edited_fraction = _composite(run, refined, backgrounds)
    times.total = events.clock.elapsed()
    report = RunReport(config=config, seed=seed, classifier=run.clf.description,
                       classifier_warning=run.clf.warning, device=str(run.device),
                       precision=str(run.autocast_dtype).replace("torch.", "") if run.autocast_dtype else "fp32",
                       image_size=(run.inputs.width, run.inputs.height), region=run.region, levels=run.levels,
                       refine=refine_report, times=times, final_losses=final_losses,
                       mask_net_fit_iou=_mask_net_fit_iou(run), edited_fraction=edited_fraction, notes=run.notes)
    return SynthesisResult(variants=variants, composites=composites, edit_mask=edit_mask, region=run.region,
                           report=report)


def _prepare(image, source_mask, target_mask, config: MagicConfig, classifier, device, seed: int,
             trust_checkpoint: bool) -> _Run:
    """The inputs read and checked, the region and its levels chosen, the classifier loaded."""
    inputs = prepare_inputs(image, source_mask, target_mask, config.max_image_pixels)
    region = choose_region(inputs.source, inputs.target, config.context_margin, config.min_context)
    levels = levels_for(region.width, region.height, config.size, config.min_side)
    notes = list(inputs.notes)
    first = levels[0]
    if min(first.width, first.height) < config.min_side:
        notes.append(f"region {region.width}x{region.height} px is very elongated; level 0 is "
                     f"{first.width}x{first.height} px, narrower than min_side {config.min_side}")
    torch_device = resolve_device(device)
    autocast_dtype = resolve_precision(config.precision, torch_device)
    clf = load_classifier(classifier, torch_device, trust_checkpoint=trust_checkpoint)
    generator = torch.Generator().manual_seed(seed)
    band, feather = edit_margins(inputs.source, inputs.target, config.edit_dilation, config.edit_feather,
                                 config.context_margin, config.min_context)
    native, matte = _region_images(inputs, region, band, torch_device, notes)
    coarse = native.at(first)
    if not coarse.target.any():
        coarse.target = resize_mask(native.target, first, cover="any")  # a thin target survives the scaling
    objective = MagicObjective(config, clf, clf.normalize(coarse.photo[None]), coarse.source[None, None].float(),
                               coarse.target[None, None].float(), autocast_dtype, network_seed=seed)
    return _Run(config, inputs, region, band, feather, levels, native, coarse, matte, clf, torch_device, autocast_dtype,
                generator, objective, notes)


def _fit_mask_net(run: _Run, events: _Events) -> float:
    """The upfront schedule's image-to-mask network, fitted before the start: it also
    tells the hole fill where the photo looks like the object. -> seconds."""
    config = run.config
    if config.mask_net_training != "upfront":
        return 0.0
    started = time.perf_counter()
    every = max(1, config.mask_net_steps // 50)
    for step in range(config.mask_net_steps):
        events.check_cancel("while training the mask network")
        loss = run.objective.train_mask_net_step()
        done = step + 1
        if done % every == 0 or done == config.mask_net_steps:
            events.report(MASK_NET, done, config.mask_net_steps, {"mask_net_bce": loss},
                          events.clock.eta(done, config.mask_net_steps, None))
    return time.perf_counter() - started


def _starting_images(run: _Run, events: _Events) -> _Start:
    """x'0: the object in its new place and shape, the hole filled with the photo's texture."""
    config, coarse, first = run.config, run.coarse, run.levels[0]
    events.check_cancel("before the starting images")
    started = time.perf_counter()
    surroundings = _surroundings(run.inputs, run.region, first, run.device) if config.init == "copy" else None
    frame_alikes = None
    if surroundings is not None and config.mask_net_training == "upfront":
        frame_alikes = look_alikes(run.objective, run.clf, surroundings.photo)
    images, background_starts = starting_images(config.init, coarse.photo, coarse.source, coarse.target,
                                                coarse.free, first, config.variants, config.init_std,
                                                config.fill_noise, run.clf.normalize, run.generator,
                                                footprint=coarse.footprint, surroundings=surroundings,
                                                look_alikes=frame_alikes)
    return _Start(images.to(run.device), background_starts, time.perf_counter() - started)


def _optimise(run: _Run, start: torch.Tensor, refine_estimate: float, events: _Events):
    """MAGIC's optimisation of the pixels of x' inside the edit area at level 0; the
    rest stays the photo. -> (images, final losses, seconds per step)."""
    config, objective = run.config, run.objective
    x = start.detach().clone().requires_grad_(True)
    free = run.coarse.free[None, None].float()
    optimizer = torch.optim.Adam([x], lr=config.learning_rate, betas=config.adam_betas)
    report_every = max(1, config.iterations // 500)
    preview_every = config.preview_every or max(1, config.iterations // 20)
    events.clock.begin_phase()
    started = time.perf_counter()
    terms = {}
    for step in range(config.iterations):
        events.check_cancel(f"at step {step} of {config.iterations}")
        if step < config.interleaved_mask_net_steps:
            objective.train_mask_net_step()
        adversarial = step >= config.critic_start_step
        if adversarial and (step - config.critic_start_step) % config.critic_every == 0:
            objective.train_critic_step(x)
        for group in optimizer.param_groups:
            group["lr"] = cosine_with_warmup(step, config.iterations, config.warmup_steps, config.learning_rate)
        grad, terms = objective.image_gradient(x, adversarial)
        # A non-finite gradient (bf16 overflow on a tiny image) must not spread
        # NaN through Adam into the result: those pixels skip the step. No
        # host sync: the check stays on the device.
        grad = torch.where(torch.isfinite(grad), grad, 0.0)
        x.grad = grad * free  # known pixels never move: Adam leaves a pixel with zero gradient where it is
        optimizer.step()
        done = step + 1
        if done % report_every == 0 or done == config.iterations:
            preview = _preview(x, run.clf) if events.wanted and done % preview_every == 0 else None
            events.report(SYNTHESIS, done, config.iterations, terms,
                          events.clock.eta(done, config.iterations, refine_estimate), preview)
    per_step = (time.perf_counter() - started) / config.iterations
    return x.detach(), {k: float(v) for k, v in terms.items()}, per_step


def _to_carry(run: _Run, optimised: torch.Tensor, start: _Start) -> torch.Tensor:
    """The level-0 images the refinement carries to the region's resolution, [0, 1]."""
    results = run.clf.denormalize(optimised.float()).clamp(0, 1)
    if not torch.isfinite(results).all():
        raise MagicError("the optimisation produced non-finite pixels; try precision fp32 (--precision fp32)")
    if run.carry_change:
        return results
    # An untrained classifier's change to a copy start is drift (a pink tint on a moved
    # dandelion, a lighter haze in its hole): the refinement carries the start instead.
    run.notes.append("the classifier is untrained: the optimisation's changes carry no meaning, so the results "
                     "carry the starting images (the object moved, the hole filled) to full resolution")
    return run.clf.denormalize(start.images.float()).clamp(0, 1)


def _refine(run: _Run, coarse_results: torch.Tensor, background_starts: list, events: _Events):
    """To the region's own resolution with the photo's own patches, loose margins faded and
    a soft selection's edge mixed again over the new place.
    -> (images, backgrounds (each image without its object), RefineReport)."""
    started = time.perf_counter()
    settings = RefineSettings.from_config(run.config, run.carry_change)
    # A level costs in proportion to its pixels (each is 4x the one below), so the time
    # left is the time so far scaled by the pixels left over the pixels done.
    level_pixels = [level.width * level.height for level in run.levels]
    levels_started = None

    def on_level(index, count):
        events.check_cancel(f"while refining level {index} of {count}")
        eta = (time.perf_counter() - levels_started) * sum(level_pixels[index:]) / sum(level_pixels[:index])
        events.report(REFINE, index - 1, count, {}, eta)

    alikes = look_alikes(run.objective, run.clf, run.coarse.photo)
    levels_started = time.perf_counter()  # the levels' own pace: the look-alikes are done once
    refined, backgrounds, refine_report = refine(coarse_results, run.native, run.levels, settings, run.generator,
                                                 on_level, background_starts, alikes)
    refine_report.seconds = time.perf_counter() - started
    refined = fade_margins(refined, run.native.photo, run.native.source, run.native.target, backgrounds,
                           run.native.footprint)
    _note_soft_edge_beyond_reach(run)
    if run.matte is not None:
        refined = matte_composite(refined, backgrounds, run.native.photo, run.matte, run.native.source,
                                  run.native.target, run.native.footprint)
    last = max(1, len(run.levels) - 1)
    events.report(REFINE, last, last, {}, 0.0)
    if refine_report.carried:
        width, height = refine_report.searched[-1]
        run.notes.append(f"patches were searched up to {width}x{height} px (the preset's budget, max_refine_pixels "
                         f"{run.config.max_refine_pixels}); the finer levels up to {run.region.width}x"
                         f"{run.region.height} px carry those matches without a new search")
    return refined, backgrounds, refine_report


def _note_soft_edge_beyond_reach(run: _Run) -> None:
    """A soft selection's edge beyond the object's footprint stays where it is: say so."""
    if run.inputs.source_matte is None:
        return
    beyond = int(((run.matte > 0) & ~run.native.footprint).sum())
    if beyond:
        run.notes.append(f"{beyond} px of the source selection's soft edge lie more than {run.band} px from the object "
                         f"(where it is 50 % selected), beyond what MAGIC edits around it; they stay where they are")


def _composite(run: _Run, refined: torch.Tensor, backgrounds: torch.Tensor):
    """The variants blended into the photo (a cut-out keeps its transparency).
    -> (variants, composites, edit mask, edited fraction of the photo)."""
    inputs, region, native = run.inputs, run.region, run.native
    alphas = [None] * len(refined)
    if inputs.alpha is not None:  # a cut-out: the place the object leaves becomes what the layer held around it
        ys, xs = region.slices
        region_alpha = torch.from_numpy(np.array(inputs.alpha[ys, xs])).to(refined.device).float().div(255)
        refined, kept = keep_transparency(refined, backgrounds, region_alpha, native.source, native.target,
                                          native.hole)
        alphas = [np.rint(a.clamp(0, 1).cpu().numpy() * 255).astype(np.uint8) for a in kept]
    variants = [np.ascontiguousarray(v) for v in _to_uint8(refined)]
    weights = blend_weights(native.free.cpu(), run.feather).numpy()
    composites = [composite(inputs.rgb, inputs.alpha, v, region, weights, a) for v, a in zip(variants, alphas)]
    edit_mask = np.zeros((inputs.height, inputs.width), np.uint8)
    edit_mask[region.slices] = np.rint(weights * 255).astype(np.uint8)
    return variants, composites, edit_mask, float(np.count_nonzero(weights) / (inputs.width * inputs.height))


def _mask_net_fit_iou(run: _Run) -> float:
    """How well the image-to-mask network learned the object on the input itself."""
    fitted = run.objective.predicted_mask(run.clf.normalize(run.coarse.photo[None]))[0, 0] > 0.5
    wanted = run.coarse.source
    return float((fitted & wanted).sum() / (fitted | wanted).sum().clamp_min(1))
