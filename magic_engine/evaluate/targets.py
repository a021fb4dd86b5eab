"""The quality targets MAGIC must meet on every bundled case (issue 10), checked per case."""

from __future__ import annotations

OBJECT_DETAIL_MIN = 0.85
HOLE_TEXTURE_RANGE = (0.8, 1.25)
DIVERSITY_MIN = 0.04
IOU_SLACK = 0.05  # no lower than paste + heal minus this; above it on shape and scene cases


def check_targets(mode: str, methods: dict, photo_variation: float | None = None) -> list:
    """[{name, met, value}] for MAGIC's figures; a figure the case has no pixels for is skipped.
    photo_variation (diversity.photo_variation) is shown beside the diversity: a smooth sky
    leaves two good fills little room to differ."""
    magic = methods["magic"]
    checks = []

    def add(name, met, value):
        checks.append({"name": name, "met": bool(met), "value": value})

    if magic["object_detail"] is not None:
        add(f"object detail >= {OBJECT_DETAIL_MIN}", magic["object_detail"] >= OBJECT_DETAIL_MIN,
            round(magic["object_detail"], 3))
    if magic["hole_texture"] is not None:
        low, high = HOLE_TEXTURE_RANGE
        add(f"hole texture in {low}..{high}", low <= magic["hole_texture"] <= high, round(magic["hole_texture"], 3))
    if magic["diversity"] is not None:
        value = f"{magic['diversity']:.4f}"
        if photo_variation is not None:
            value += f"; the photo's own variation there {photo_variation:.4f}"
        add(f"diversity >= {DIVERSITY_MIN}", magic["diversity"] >= DIVERSITY_MIN, value)
    healed = methods.get("paste_heal")
    if healed is not None and magic["mask_iou"] is not None and healed["mask_iou"] is not None:
        if mode == "position":
            add(f"IoU >= paste + heal - {IOU_SLACK}", magic["mask_iou"] >= healed["mask_iou"] - IOU_SLACK,
                f"{magic['mask_iou']:.3f} vs {healed['mask_iou']:.3f}")
        else:
            add("IoU > paste + heal", magic["mask_iou"] > healed["mask_iou"],
                f"{magic['mask_iou']:.3f} vs {healed['mask_iou']:.3f}")
    add("changed outside = 0", magic["changed_outside"] == 0, magic["changed_outside"])
    return checks
