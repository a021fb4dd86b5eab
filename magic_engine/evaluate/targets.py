"""What MAGIC must reach on every case, and where it stands against paste + heal, per figure."""

from __future__ import annotations

import math

OBJECT_INTACT_MIN = 0.97  # moves only
OBJECT_DETAIL_MIN = 0.85
HOLE_TEXTURE_RANGE = (0.8, 1.25)
# Variants must differ at least this share of how much the photo itself
# varies where they may differ (a smooth sky leaves two good fills little room).
DIVERSITY_SHARE_MIN = 0.5
IOU_SLACK = 0.02  # moves and exact stretches: no lower than paste + heal minus this; other reshapes: above it

# figure -> how "at least as good" is judged: "higher", "lower", or "closer to 1"
# (a ratio to the photo's own detail: blurrier and noisier are both worse).
COMPARED = {"mask_iou": "higher", "object_intact": "higher", "object_detail": "closer to 1",
            "hole_texture": "closer to 1", "swd_object": "lower", "swd_background": "lower"}
COMPARED_LABELS = {"mask_iou": "IoU", "object_intact": "intact", "object_detail": "detail",
                   "hole_texture": "hole texture", "swd_object": "SWD object", "swd_background": "SWD background"}


def check_targets(mode: str, methods: dict, photo_variation: float | None = None, stretch: bool = False) -> list:
    """[{name, met, value}] for MAGIC's figures; a figure the case has no pixels for is skipped.
    photo_variation (diversity.photo_variation): how much the photo varies where the
    variants may differ; the diversity target is a share of it. stretch: the target is
    the source scaled to its box, which a paste reaches exactly: a reshape may tie it."""
    magic = methods["magic"]
    checks = []

    def add(name, met, value):
        checks.append({"name": name, "met": bool(met), "value": value})

    if magic.get("object_intact") is not None:
        add(f"object intact >= {OBJECT_INTACT_MIN}", magic["object_intact"] >= OBJECT_INTACT_MIN,
            round(magic["object_intact"], 3))
    if magic["object_detail"] is not None:
        add(f"object detail >= {OBJECT_DETAIL_MIN}", magic["object_detail"] >= OBJECT_DETAIL_MIN,
            round(magic["object_detail"], 3))
    if magic["hole_texture"] is not None:
        low, high = HOLE_TEXTURE_RANGE
        add(f"hole texture in {low}..{high}", low <= magic["hole_texture"] <= high, round(magic["hole_texture"], 3))
    if magic["diversity"] is not None and photo_variation:
        share = magic["diversity"] / photo_variation
        add(f"diversity >= {DIVERSITY_SHARE_MIN} x the photo's own variation", share >= DIVERSITY_SHARE_MIN,
            f"{magic['diversity']:.4f} = {share:.2f} x {photo_variation:.4f}")
    healed = methods.get("paste_heal")
    if healed is not None and magic["mask_iou"] is not None and healed["mask_iou"] is not None:
        if mode == "position" or stretch:
            add(f"IoU >= paste + heal - {IOU_SLACK}", magic["mask_iou"] >= healed["mask_iou"] - IOU_SLACK,
                f"{magic['mask_iou']:.3f} vs {healed['mask_iou']:.3f}")
        else:
            add("IoU > paste + heal", magic["mask_iou"] > healed["mask_iou"],
                f"{magic['mask_iou']:.3f} vs {healed['mask_iou']:.3f}")
    add("changed outside = 0", magic["changed_outside"] == 0, magic["changed_outside"])
    return checks


def at_least_as_good(figure: str, magic: float, healed: float) -> bool:
    """Whether MAGIC's `figure` is at least as good as paste + heal's (COMPARED)."""
    how = COMPARED[figure]
    if how == "higher":
        return magic >= healed
    if how == "lower":
        return magic <= healed
    return abs(math.log(magic)) <= abs(math.log(healed))


def against_paste_heal(methods: dict) -> list:
    """[{figure, label, magic, paste_heal, as_good}] for every compared figure both have."""
    magic, healed = methods["magic"], methods.get("paste_heal")
    if healed is None:
        return []
    rows = []
    for figure, label in COMPARED_LABELS.items():
        if magic.get(figure) is None or healed.get(figure) is None:
            continue
        rows.append({"figure": figure, "label": label, "magic": magic[figure], "paste_heal": healed[figure],
                     "as_good": at_least_as_good(figure, magic[figure], healed[figure])})
    return rows
