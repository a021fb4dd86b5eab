"""Where the object goes: the source object mapped onto the target mask.

Target rows take source rows in proportion (their boxes' heights), and in
each row the target's span takes the source's span in proportion. A moved
object is copied exactly; a wider or tapering target gets the object
stretched to its outline, not to its bounding box.

Where the target is larger or smaller than the source there is more than
one honest way to stretch, and the variants use that freedom: `spread`
says where the extra width (and height) goes. 0 spreads it evenly; 1 puts
it in the middle, so the object's edges (a cup's rim, a tower's beams)
keep their own scale; -1 puts it at the edges and keeps the middle. Every
spread maps the source's ends onto the target's ends, and does nothing
where the spans are equal.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_BEND = 0.9  # keeps the profile monotone when a target is much narrower than its source


def variant_spread(variant: int) -> float:
    """The spread of the `variant`-th result: even for the first (the one GIMP
    shows first), then the middle, the edges, and halfway to each."""
    return (0.0, 1.0, -1.0, 0.5, -0.5)[variant % 5]


def _rows_with_spans(mask: torch.Tensor):
    """Per row: (has pixels, first column, one past the last column)."""
    width = mask.shape[1]
    cols = torch.arange(width, device=mask.device)
    has = mask.any(1)
    first = torch.where(mask, cols, width).min(1).values
    last = torch.where(mask, cols, -1).max(1).values + 1
    return has, first, last


def _nearest_filled(has: torch.Tensor) -> torch.Tensor:
    """For every row, the index of the nearest row with pixels."""
    rows = torch.nonzero(has)[:, 0]
    every = torch.arange(len(has), device=has.device)
    return rows[(every[:, None] - rows[None]).abs().argmin(1)]


def _bent(t: torch.Tensor, bend: torch.Tensor) -> torch.Tensor:
    """u with u - bend sin(2 pi u) / (2 pi) = t: the source position (0..1 along the span)
    of target position t. bend > 0 samples the source faster at the ends, so
    the ends are stretched less. Exact at t = 0 and 1; identity where bend is 0."""
    u = t.clone()
    for _ in range(8):  # Newton: the function is monotone for |bend| < 1
        angle = 2 * math.pi * u
        u = u - (u - bend * torch.sin(angle) / (2 * math.pi) - t) / (1 - bend * torch.cos(angle))
    return u


def _bend(spread: float, target_length: torch.Tensor, source_length: torch.Tensor) -> torch.Tensor:
    """The profile's strength: at spread 1 the ends keep the source's scale exactly."""
    extra = (target_length - source_length) / target_length.clamp_min(1)
    return (spread * extra).clamp(-MAX_BEND, MAX_BEND)


def warp_coordinates(source: torch.Tensor, target: torch.Tensor, spread: float = 0.0, beyond: bool = False):
    """Where each pixel of the target takes its colour from: (rows (H,), cols (H, W)),
    continuous source coordinates. Defined for every pixel (rows are clamped to
    the source's, or with `beyond` extrapolated as columns are: what lies just
    outside the object goes with it too), exact on the target itself."""
    height, width = source.shape
    s_has, s_first, s_last = _rows_with_spans(source)
    t_has, t_first, t_last = _rows_with_spans(target)
    s_rows, t_rows = torch.nonzero(s_has)[:, 0], torch.nonzero(t_has)[:, 0]
    s_top, s_bottom = s_rows[0].item(), s_rows[-1].item() + 1
    t_top, t_bottom = t_rows[0].item(), t_rows[-1].item() + 1
    rows = torch.arange(height, device=source.device, dtype=torch.float32)
    row_bend = _bend(spread, torch.tensor(float(t_bottom - t_top)), torch.tensor(float(s_bottom - s_top)))
    along = _bent((rows + 0.5 - t_top) / (t_bottom - t_top), row_bend)
    unclamped_row = s_top + along * (s_bottom - s_top) - 0.5
    source_row = unclamped_row.clamp(s_top, s_bottom - 1)
    # Rows outside the target's span take the nearest target row's span.
    target_row = _nearest_filled(t_has)
    a_t, b_t = t_first[target_row].float(), t_last[target_row].float()
    nearest = _nearest_filled(s_has)[source_row.round().long()]
    a_s, b_s = s_first[nearest].float(), s_last[nearest].float()
    cols = torch.arange(width, device=source.device, dtype=torch.float32)
    span = (b_t - a_t).clamp_min(1)[:, None]
    col_bend = _bend(spread, b_t - a_t, b_s - a_s)[:, None]
    across = _bent((cols[None] + 0.5 - a_t[:, None]) / span, col_bend)
    source_col = a_s[:, None] + across * (b_s - a_s)[:, None] - 0.5
    return (unclamped_row if beyond else source_row), source_col


def warp_into_target(image: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                     spread: float = 0.0) -> torch.Tensor:
    """(3, H, W) `image` with the source object resampled into every target pixel."""
    height, width = source.shape
    source_row, source_col = warp_coordinates(source, target, spread)
    grid_x = (source_col + 0.5) / width * 2 - 1
    grid_y = ((source_row + 0.5) / height * 2 - 1)[:, None].expand(height, width)
    grid = torch.stack([grid_x, grid_y], dim=-1)[None]
    warped = F.grid_sample(image[None], grid, mode="bilinear", padding_mode="border", align_corners=False)[0]
    return torch.where(target[None], warped, image)


def _step(coordinates: torch.Tensor, dim: int) -> torch.Tensor:
    """How far the source coordinate moves per target pixel along `dim`: the larger of
    the steps to either neighbour (at the object's edge one side is clamped, 0)."""
    steps = torch.diff(coordinates, dim=dim).abs()
    pad = [0, 0] * (coordinates.dim() - 1 - dim)
    forward = torch.nn.functional.pad(steps, pad + [0, 1])
    backward = torch.nn.functional.pad(steps, pad + [1, 0])
    return torch.maximum(forward, backward)


def warp_stretch(source: torch.Tensor, target: torch.Tensor, spread: float = 0.0) -> torch.Tensor:
    """(H, W) how many times the warp enlarges the object at each pixel (the larger of
    its row and column magnification): 1 where it only moves it, 2 where one source
    pixel must fill two."""
    source_row, source_col = warp_coordinates(source, target, spread)
    rows = 1 / _step(source_row, 0).clamp_min(1e-3)
    cols = 1 / _step(source_col, 1).clamp_min(1e-3)
    return torch.maximum(rows[:, None].expand_as(cols), cols)
