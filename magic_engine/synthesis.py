"""One MAGIC run: from an image and two masks to several composited variants."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from magic_common.phases import MASK_NET, REFINE, SYNTHESIS
from magic_common.region import widened

from . import __version__
from .classifier import FeatureClassifier, load_classifier
from .config import MagicConfig, make_config
from .devices import resolve_device, resolve_precision
from .errors import Cancelled, MagicError
from .fill import FILL_ITERATIONS, FILL_REACH, Surroundings
from .init import starting_images
from .inputs import PreparedInput, prepare_inputs
from .margins import fade_margins
from .objective import MagicObjective
from .progress import Progress
from .pyramid import Level, levels_for, resize_mask
from .refine import RefineSettings, RegionImages, refine
from .region import Box, blend_weights, choose_region, composite, edit_band, feather_width, region_report
from .schedule import cosine_with_warmup
from .transparency import keep_transparency

_PREVIEW_SIDE = 160
REFINE_SECONDS_PER_PIXEL_ROUND = 5e-7  # a 2-core CPU's rate; only used without a copy start to learn it from
# A refinement round costs this share of a hole-fill round per pixel (see
# _refine_estimate; fitted on eight evaluation cases cropped to their region, 2026-12-06).
FILL_TO_REFINE = 0.08


@dataclass
class SynthesisResult:
    variants: list  # uint8 (h, w, 3) per variant: the region, at its own resolution
    composites: list  # uint8 (H, W, 3|4) per variant, the full input with the edit blended in
    edit_mask: np.ndarray  # uint8 (H, W): 255 where results replace the input, 0 where input is kept
    region: Box
    report: dict = field(default_factory=dict)

    def save(self, out_dir: Path) -> list:
        """variant_<i>.png, composite_<i>.png and report.json; returns the paths."""
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for i, (variant, comp) in enumerate(zip(self.variants, self.composites)):
            for name, pixels in ((f"variant_{i}.png", variant), (f"composite_{i}.png", comp)):
                Image.fromarray(pixels).save(out_dir / name)
                written.append(out_dir / name)
        report_path = out_dir / "report.json"
        report_path.write_text(json.dumps(self.report, indent=2) + "\n", encoding="utf-8")
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


def _region_images(inputs: PreparedInput, region: Box, band: int, device) -> RegionImages:
    ys, xs = region.slices
    photo = torch.from_numpy(np.array(inputs.rgb[ys, xs])).to(device)
    source = torch.from_numpy(np.array(inputs.source[ys, xs])).to(device)
    target = torch.from_numpy(np.array(inputs.target[ys, xs])).to(device)
    photo = photo.permute(2, 0, 1).float().div(255)
    return RegionImages.of(photo, source, target, band)


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


def synthesize(image, source_mask, target_mask, config: MagicConfig | None = None, *,
               classifier="auto", device="auto", seed: int = 0, progress=None, cancel=None,
               trust_checkpoint: bool = False) -> SynthesisResult:
    """Run MAGIC on `image` moving/reshaping what `source_mask` covers into `target_mask`.

    image: path, PIL image or uint8 (H, W, 3|4) array; masks: path, PIL image
    or (H, W) array, same size as the image (soft masks are thresholded).
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
    clock = _Clock()
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

    band = edit_band(region, config.edit_dilation)
    native = _region_images(inputs, region, band, torch_device)
    coarse = native.at(first)
    if not coarse.target.any():
        coarse.target = resize_mask(native.target, first, cover="any")  # a thin target survives the scaling
    reference = clf.normalize(coarse.photo[None])
    source = coarse.source[None, None].float()
    target = coarse.target[None, None].float()
    free = coarse.free[None, None].float()
    objective = MagicObjective(config, clf, reference, source, target, autocast_dtype, network_seed=seed)

    report_every = max(1, config.iterations // 500)
    preview_every = config.preview_every or max(1, config.iterations // 20)

    def report(phase, step, total, losses, eta, preview=None):
        if progress is not None:
            values = {k: float(v) for k, v in losses.items()}
            progress(Progress(phase, step, total, values, clock.elapsed(), eta, preview))

    def check_cancel(where):
        if _cancel_requested(cancel):
            raise Cancelled(f"cancelled {where}")

    # Phase 1 (upfront schedule only): fit the image-to-mask network. It comes first
    # because it also tells the hole fill where the photo looks like the object.
    check_cancel("before the start")
    mask_net_seconds = 0.0
    if config.mask_net_training == "upfront":
        mask_started = time.perf_counter()
        for step in range(config.mask_net_steps):
            check_cancel("while training the mask network")
            loss = objective.train_mask_net_step()
            if (step + 1) % max(1, config.mask_net_steps // 50) == 0 or step + 1 == config.mask_net_steps:
                report(MASK_NET, step + 1, config.mask_net_steps, {"mask_net_bce": loss},
                       clock.eta(step + 1, config.mask_net_steps, None))
        mask_net_seconds = time.perf_counter() - mask_started

    # Starting images: the object in its new place and shape, the hole filled with texture.
    check_cancel("before the starting images")
    fill_started = time.perf_counter()
    surroundings = _surroundings(inputs, region, first, torch_device) if config.init == "copy" else None
    frame_alikes = None
    if surroundings is not None and config.mask_net_training == "upfront":
        frame_alikes = look_alikes(objective, clf, surroundings.photo)
    x, hole_starts = starting_images(config.init, coarse.photo, coarse.source, coarse.target, coarse.free, first,
                                     config.variants, config.init_std, config.fill_noise, clf.normalize,
                                     generator, rim=max(1, math.ceil(band * first.scale)),
                                     surroundings=surroundings, look_alikes=frame_alikes)
    start_seconds = time.perf_counter() - fill_started
    x = x.to(torch_device)
    carry_change = clf.trained or config.init != "copy"
    start_images = None if carry_change else x.detach().clone()  # what the results carry instead
    x.requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=config.learning_rate, betas=config.adam_betas)
    refine_estimate = _refine_estimate(levels, native, coarse, config, start_seconds)

    # Phase 2: optimise the pixels of x' inside the edit area; the rest stays the photo.
    clock.begin_phase()
    synthesis_started = time.perf_counter()
    critic_start = config.critic_start_step
    terms = {}
    for step in range(config.iterations):
        check_cancel(f"at step {step} of {config.iterations}")
        if step < config.interleaved_mask_net_steps:
            objective.train_mask_net_step()
        adversarial = step >= critic_start
        if adversarial and (step - critic_start) % config.critic_every == 0:
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
            preview = _preview(x, clf) if progress is not None and (done % preview_every == 0) else None
            report(SYNTHESIS, done, config.iterations, terms,
                   clock.eta(done, config.iterations, refine_estimate), preview)
    synthesis_seconds = time.perf_counter() - synthesis_started

    # Phase 3: to the region's own resolution with the photo's own patches.
    coarse_results = clf.denormalize(x.detach().float()).clamp(0, 1)
    if not torch.isfinite(coarse_results).all():
        raise MagicError("the optimisation produced non-finite pixels; try precision fp32 (--precision fp32)")
    if not carry_change:
        # An untrained classifier's gradients are texture statistics only: what the
        # optimisation changed in a copy start is drift (a pink tint on a moved
        # dandelion, a lighter haze in its hole), so the refinement carries the start
        # instead. (A noise start has nothing else to carry.)
        coarse_results = clf.denormalize(start_images.float()).clamp(0, 1)
        notes.append("the classifier is untrained: the optimisation's changes carry no meaning, so the results "
                     "carry the starting images (the object moved, the hole filled) to full resolution")
    refine_started = time.perf_counter()
    settings = RefineSettings(iterations=config.refine_iterations,
                              patchmatch_iterations=config.patchmatch_iterations,
                              max_refine_pixels=config.max_refine_pixels, patch_dims=config.patch_dims,
                              object_coherence=config.object_coherence, final_reach=config.vote_reach,
                              copy_object=config.mode == "position", carry_change=carry_change)

    # A level costs in proportion to its pixels (each is 4x the one below), so the time
    # left is the time so far scaled by the pixels left over the pixels done.
    level_pixels = [level.width * level.height for level in levels]

    def on_level(index, count):
        check_cancel(f"while refining level {index} of {count}")
        eta = (time.perf_counter() - levels_started) * sum(level_pixels[index:]) / sum(level_pixels[:index])
        report(REFINE, index - 1, count, {}, eta)

    alikes = look_alikes(objective, clf, coarse.photo)
    levels_started = time.perf_counter()  # the levels' own pace: the look-alikes are done once
    refined, refine_report = refine(coarse_results, native, levels, settings, generator, on_level, hole_starts,
                                    alikes)
    refine_report.seconds = time.perf_counter() - refine_started
    refined = fade_margins(refined, native.photo, native.source, native.target)
    report(REFINE, max(1, len(levels) - 1), max(1, len(levels) - 1), {}, 0.0)

    alphas = [None] * len(refined)
    if inputs.alpha is not None:  # a cut-out: the place the object leaves becomes what the layer held around it
        ys, xs = region.slices
        region_alpha = torch.from_numpy(np.array(inputs.alpha[ys, xs])).to(refined.device).float().div(255)
        refined, kept = keep_transparency(refined, native.photo, region_alpha, native.source, native.target,
                                          native.hole)
        alphas = [np.rint(a.clamp(0, 1).cpu().numpy() * 255).astype(np.uint8) for a in kept]
    variants = [np.ascontiguousarray(v) for v in _to_uint8(refined)]
    weights = blend_weights(native.free.cpu(), feather_width(region, config.edit_feather)).numpy()
    composites = [composite(inputs.rgb, inputs.alpha, v, region, weights, a) for v, a in zip(variants, alphas)]
    final_losses = {k: float(v) for k, v in terms.items()}
    fitted = objective.predicted_mask(reference)[0, 0] > 0.5
    wanted = source[0, 0] > 0.5
    mask_net_fit_iou = float((fitted & wanted).sum() / (fitted | wanted).sum().clamp_min(1))
    if refine_report.carried:
        width, height = refine_report.searched[-1]
        notes.append(f"patches were searched up to {width}x{height} px (the preset's budget, max_refine_pixels "
                     f"{config.max_refine_pixels}); the finer levels up to {region.width}x{region.height} px "
                     f"carry those matches without a new search")
    report_dict = {
        "engine_version": __version__,
        "config": config.to_dict(),
        "seed": seed,
        "classifier": clf.description,
        "classifier_warning": clf.warning,
        "device": str(torch_device),
        "precision": str(autocast_dtype).replace("torch.", "") if autocast_dtype else "fp32",
        "image_size": [inputs.width, inputs.height],
        "region": region_report(region),
        "levels": [[level.width, level.height] for level in levels],
        "refine": {**refine_report.to_dict(), "estimated_seconds": round(refine_estimate, 3)},
        "notes": notes,
        "start_seconds": round(start_seconds, 3),
        "mask_net_seconds": round(mask_net_seconds, 3),
        "seconds_per_step": round(synthesis_seconds / config.iterations, 4),
        "total_seconds": round(clock.elapsed(), 3),
        "final_losses": final_losses,
        # How well the image-to-mask network learned the object on the input itself.
        "mask_net_fit_iou": round(mask_net_fit_iou, 4),
        "edited_fraction": float(np.count_nonzero(weights) / (inputs.width * inputs.height)),
    }
    edit_mask = np.zeros((inputs.height, inputs.width), np.uint8)
    edit_mask[region.slices] = np.rint(weights * 255).astype(np.uint8)
    return SynthesisResult(variants=variants, composites=composites, edit_mask=edit_mask, region=region,
                           report=report_dict)


def _refine_estimate(levels, native: RegionImages, coarse: RegionImages, config: MagicConfig,
                     start_seconds: float) -> float:
    """Seconds the refinement will take, for the progress estimate before it starts.

    The refinement and the copy start's hole fill are the same work, rounds of
    search and vote over edited pixels, so the start's measured cost per
    hole pixel-round carries over; other starts assume REFINE_SECONDS_PER_PIXEL_ROUND.
    The fill's cost grows with the hole, not with the frame of surroundings it
    searches, so a crop that is just the region (what the plug-in
    sends) and a whole photo are estimated alike. With FILL_TO_REFINE it
    predicted the refinement of eight cases sent as the plug-in sends them
    within 0.76x..1.15x and the 3840x2560 flower photo whole at 1.40x (2026-12-06); a
    shape case, whose refinement does more per pixel, at 0.40x (2 s of 36).
    The report gives the estimate beside the measured time.
    """
    edited = float(native.free.sum())
    rounds = config.variants * config.refine_iterations * sum(edited * level.scale ** 2 for level in levels)
    rate = REFINE_SECONDS_PER_PIXEL_ROUND
    if config.init == "copy" and start_seconds > 0:
        fill_rounds = config.variants * FILL_ITERATIONS * max(1.0, float(coarse.free.sum()))
        rate = FILL_TO_REFINE * start_seconds / fill_rounds
    return rate * rounds
