"""A hard selection drawn loosely lets go of the background it holds (margins.loose_matte):
a polygon round a tree on a ridge does not bring its wedge of sky along."""

import numpy as np
import torch

from engine_fixtures import TEST_DEVICE
from magic_engine import make_config, synthesize
from magic_engine import margins
from magic_engine.margins import loose_matte
from magic_engine.masks import dilate

SKY = torch.tensor([0.62, 0.70, 0.55])
GROUND = torch.tensor([0.55, 0.62, 0.10])
TREE = torch.tensor([0.20, 0.30, 0.12])


def _grid(height, width):
    return torch.arange(height)[:, None].float(), torch.arange(width)[None].float()


def _ridge_with_a_tree(height=120, width=240, seed=0):
    """Grainy sky above row 60, striped ground below; a dark tree at column 180: a
    crown of radius 12 in the sky at row 38, a 3 px trunk down into the ground, and a
    1 px branch rising to the right. -> (photo (3, H, W), tree: bool (H, W), branch: bool)."""
    generator = torch.Generator().manual_seed(seed)
    rows, cols = _grid(height, width)
    photo = torch.where(rows < 60, SKY[:, None, None], GROUND[:, None, None]).expand(3, height, width).clone()
    photo += torch.where(rows >= 60, 0.12 * ((cols + 2 * rows) % 9 < 3).float() - 0.04, 0.0)
    photo += 0.02 * torch.randn(3, height, width, generator=generator)
    crown = (rows - 38) ** 2 + (cols - 180) ** 2 <= 12 ** 2
    trunk = (rows >= 38) & (rows < 100) & ((cols - 180).abs() <= 1)
    branch = (rows >= 14) & (rows < 30) & (cols == 194 + (30 - rows) // 2)
    tree = crown | trunk | branch
    photo[:, tree] = TREE[:, None] + 0.02 * torch.randn(3, int(tree.sum()), generator=generator)
    return photo.clamp(0, 1), tree, branch


def _loose_box(rows, cols, top, bottom, left, right):
    return (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)


def test_a_loose_selection_lets_go_of_the_sky_it_holds_and_keeps_the_tree():
    photo, tree, branch = _ridge_with_a_tree()
    rows, cols = _grid(*tree.shape)
    source = _loose_box(rows, cols, 8, 104, 158, 212)
    target = torch.roll(source, -120, dims=1)
    matte = loose_matte(photo, source, target)
    assert matte is not None
    sky = source & (rows < 56) & ~dilate(tree, 4)
    assert (matte[sky] < 0.1).float().mean() > 0.9  # the sky it held goes
    assert matte[tree & ~branch].min() > 0.9  # the crown and trunk stay whole
    assert matte[branch].mean() > 0.6  # so does a 1 px branch against the sky


def test_a_selection_that_follows_the_object_lets_nothing_go():
    photo, tree, _ = _ridge_with_a_tree()
    rows, cols = _grid(*tree.shape)
    crown = (rows - 38) ** 2 + (cols - 180) ** 2 <= 12 ** 2
    assert loose_matte(photo, crown, torch.roll(crown, -120, dims=1)) is None


def test_background_coloured_parts_inside_the_object_stay():
    # A dark ring with sky showing through its middle: that sky is the object's, not
    # joined to the selection's loose outline, so it stays.
    photo, _, _ = _ridge_with_a_tree()
    rows, cols = _grid(*photo.shape[1:])
    distance = ((rows - 30) ** 2 + (cols - 60) ** 2).sqrt()
    ring = (distance >= 8) & (distance <= 14)
    photo[:, ring] = TREE[:, None]
    source = _loose_box(rows, cols, 6, 56, 36, 84)
    matte = loose_matte(photo, source, torch.roll(source, 100, dims=1))
    assert matte is not None
    assert matte[distance < 6].min() > 0.9
    assert matte[ring].min() > 0.9


def test_faint_thin_parts_the_selection_follows_are_kept():
    # A star on a dark field of small galaxies, its four faint spikes selected with
    # narrow arms: the spikes are dim but they are the object, not the dark between.
    generator = torch.Generator().manual_seed(3)
    height, width = 160, 160
    rows, cols = _grid(height, width)
    photo = 0.04 + 0.02 * torch.rand(3, height, width, generator=generator)
    for _ in range(40):
        y, x = torch.randint(0, height, (2,), generator=generator).tolist()
        photo[:, max(0, y - 1):y + 2, max(0, x - 1):x + 2] = torch.rand(3, 1, 1, generator=generator) * 0.6 + 0.2
    distance = ((rows - 80) ** 2 + (cols - 80) ** 2).sqrt()
    core = distance <= 6
    spikes = (((rows - 80).abs() <= 0) | ((cols - 80).abs() <= 0)) & (distance <= 56) & ~core
    photo[:, spikes] = torch.tensor([0.55, 0.35, 0.45])[:, None] * (1 - distance[spikes] / 70)
    photo[:, core] = 0.95
    source = (distance <= 12) | ((((rows - 80).abs() <= 4) | ((cols - 80).abs() <= 4)) & (distance <= 60))
    matte = loose_matte(photo, source, torch.roll(source, 40, dims=0))
    assert matte is not None  # the dark sky in the star's broad middle goes...
    kept = spikes & (distance <= 48)
    assert (matte[kept] > 0.5).float().mean() > 0.9  # ...its spikes stay


def test_a_loosely_selected_tree_arrives_without_its_sky():
    # The whole engine: the tree moved from the sky down onto the ground. Where the
    # selection held sky, the ground shows at the new place; the crown arrives whole.
    photo, tree, branch = _ridge_with_a_tree(height=160, width=240)
    rows, cols = _grid(*tree.shape)
    source = _loose_box(rows, cols, 8, 70, 158, 212)
    shift = (80, -120)
    target = torch.roll(source, shift, dims=(0, 1))
    image = (photo.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    config = make_config("preview", "position", iterations=1, mask_net_steps=5)
    result = synthesize(image, source.numpy(), target.numpy(), config, classifier="random:resnet18",
                        device=TEST_DEVICE, seed=0)
    out = torch.from_numpy(result.composites[0][..., :3].astype(np.float32) / 255).permute(2, 0, 1)
    grown_tree = dilate(tree, 4)
    sky_held = torch.roll(source & ~grown_tree & (rows < 56), shift, dims=(0, 1))
    like_sky = (out[:, sky_held] - SKY[:, None]).abs().mean(0) < 0.08
    assert like_sky.float().mean() < 0.1, "the sky the selection held came along as a sticker"
    crown = torch.roll((rows - 38) ** 2 + (cols - 180) ** 2 <= 10 ** 2, shift, dims=(0, 1))
    assert (out[:, crown] - TREE[:, None]).abs().mean(0).max() < 0.1
    assert any("let go" in note for note in result.report.notes)


def test_a_blurred_object_keeps_its_glow():
    # A soft light whose glow spills past a loose selection into dark ground: the
    # background is judged from beyond the glow, so the glow inside the selection stays.
    height, width = 160, 360
    rows, cols = _grid(height, width)
    generator = torch.Generator().manual_seed(5)
    ground = torch.tensor([0.10, 0.16, 0.08])[:, None, None] + 0.02 * torch.randn(3, height, width, generator=generator)
    distance = ((rows - 80) ** 2 + (cols - 270) ** 2).sqrt()
    glow = torch.where(distance <= 25, torch.ones_like(distance), torch.exp(-(distance - 25) / 8))
    photo = (ground * (1 - glow) + torch.tensor([0.3, 0.9, 0.95])[:, None, None] * glow).clamp(0, 1)
    source = distance <= 50
    matte = loose_matte(photo, source, torch.roll(source, -190, dims=1))
    assert matte is not None  # the dark ground at the selection's rim goes...
    bright_glow = (glow > 0.2) & (distance > 25)
    assert matte[bright_glow].min() > 0.9  # ...the glow stays


def test_a_tight_selection_with_a_weak_edge_keeps_the_object_whole():
    # A red cup on a red saucer over brown wood, selected along its rim and sides and
    # a little loosely at its foot: the cup's lower body has the saucer's colour, and
    # the selection follows the cup's edge over most of its outline, so nothing goes.
    height, width = 120, 200
    rows, cols = _grid(height, width)
    generator = torch.Generator().manual_seed(7)
    red, wood = torch.tensor([0.55, 0.12, 0.08]), torch.tensor([0.50, 0.32, 0.16])
    photo = wood[:, None, None].expand(3, height, width).clone()
    saucer = ((rows >= 70) & (rows < 110)).expand(height, width)
    photo[:, saucer] = red[:, None]
    cup = (rows >= 20) & (rows < 80) & (cols >= 60) & (cols < 120)
    photo[:, cup] = red[:, None]
    photo[:, cup & (rows < 26)] = 0.95
    photo = (photo + 0.015 * torch.randn(3, height, width, generator=generator)).clamp(0, 1)
    source = (rows >= 20) & (rows < 86) & (cols >= 60) & (cols < 120)
    assert loose_matte(photo, source, torch.roll(source, 60, dims=1)) is None


def test_a_flat_backdrop_is_let_go():
    # A product shot on a perfectly flat backdrop: the backdrop's neighbourhoods match
    # each other exactly, which must not leave it no room to be background in.
    height, width = 100, 160
    rows, cols = _grid(height, width)
    photo = torch.full((3, height, width), 0.96)
    bottle = ((rows - 50) ** 2 / 30 ** 2 + (cols - 80) ** 2 / 12 ** 2) <= 1
    photo[:, bottle] = torch.tensor([0.10, 0.35, 0.20])[:, None]
    source = _loose_box(rows, cols, 10, 90, 50, 110)
    matte = loose_matte(photo, source, torch.roll(source, 40, dims=1))
    assert matte is not None
    backdrop = source & ~dilate(bottle, 2)
    assert matte[backdrop].max() < 0.05
    assert matte[bottle].min() > 0.95


def _post_before_a_stone_wall(height=140, width=160, seed=0):
    """A stone wall of dark blocks with black joints and shadows (4 px cells of random
    dark tones) and a flat black post 14 px wide, lit along its right edge, standing
    before it. -> (photo (3, H, W), post: bool (H, W))."""
    generator = torch.Generator().manual_seed(seed)
    rows, cols = _grid(height, width)
    cells = torch.rand(1, 1, height // 4, width // 4, generator=generator)
    tones = torch.nn.functional.interpolate(cells, size=(height, width), mode="nearest")[0, 0]
    wall = torch.stack([0.02 + 0.26 * tones, 0.03 + 0.30 * tones, 0.03 + 0.26 * tones])
    photo = wall + 0.01 * torch.randn(3, height, width, generator=generator)
    post = _loose_box(rows, cols, 40, 120, 70, 84)
    photo[:, post] = torch.tensor([0.03, 0.03, 0.04])[:, None]
    lit = _loose_box(rows, cols, 40, 120, 82, 84)
    photo[:, lit] = torch.tensor([0.75, 0.55, 0.20])[:, None]
    return photo.clamp(0, 1), post


def test_an_object_like_part_of_the_background_but_not_found_around_it_stays(monkeypatch):
    # The black post is as dark as the wall's joints, so its colours alone would let it
    # go; but black fills the selection and is rare just outside it: it is the object.
    photo, post = _post_before_a_stone_wall()
    source = dilate(post, 5)
    target = torch.roll(source, 60, dims=1)
    matte = loose_matte(photo, source, target)
    assert matte is None or matte[post].min() > 0.9
    # It is that rule that keeps it: without it the post's black goes.
    monkeypatch.setattr(margins, "OUTSIDE_TO_INSIDE", 0.0)
    without = loose_matte(photo, source, target)
    assert without is not None and without[post].mean() < 0.5
