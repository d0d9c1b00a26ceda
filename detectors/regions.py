"""Motion-region cropping: run the detector on padded crops around motion, not the whole frame.

Like Frigate: the motion gate says where something changed; those regions (and the boxes of
objects already tracked, so a person who stops moving keeps being seen) are padded, merged and
cut out, and each crop goes to the detector, which letterboxes it at its input size. A small
crop is therefore seen at a higher resolution than in the whole frame, and a static object that
never moved (a poster, a statue) is never looked at. When the crops would cover most of the
frame, one full-frame pass is cheaper and the whole frame is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detectors.base import Detector
from detectors.detections import Detections
from detectors.preprocess import nms_per_class

Box = tuple[float, float, float, float]

# A box this close (pixels) to a crop edge that is inside the frame was cut by the crop: the
# same object is seen whole in the neighbouring crop or on the next frame, so the piece is dropped.
_EDGE_PX = 2.0
# One person straddling two neighbouring crops is found twice; this NMS keeps the better box.
CROSS_CROP_NMS_IOU = 0.5


def _pad(box: Box, padding: float, min_size: float, w: int, h: int) -> Box:
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1)
    p = padding * side
    x1, y1, x2, y2 = x1 - p, y1 - p, x2 + p, y2 + p
    # Grow small boxes to min_size so a tiny region is not blown up beyond what the model saw
    # in training (the letterbox scale is at most input_size / min_size).
    for lo, hi, limit in ((0, 2, w), (1, 3, h)):
        vals = [x1, y1, x2, y2]
        short = min_size - (vals[hi] - vals[lo])
        if short > 0:
            vals[lo] -= short / 2
            vals[hi] += short / 2
        # Shift inside the frame before clipping, so the crop keeps its size at the borders.
        if vals[lo] < 0:
            vals[hi] -= vals[lo]
            vals[lo] = 0
        if vals[hi] > limit:
            vals[lo] -= vals[hi] - limit
            vals[hi] = limit
        vals[lo] = max(0.0, vals[lo])
        x1, y1, x2, y2 = vals
    return (x1, y1, x2, y2)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _merge(boxes: list[Box]) -> list[Box]:
    """Union overlapping boxes until none overlap (few boxes: the quadratic loop is fine)."""
    boxes = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _overlap(boxes[i], boxes[j]):
                    a, b = boxes[i], boxes.pop(j)
                    boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    merged = True
                    break
            if merged:
                break
    return boxes


@dataclass(frozen=True)
class CropPlan:
    """Where to look in one frame.

    areas: the padded motion regions and track boxes; detections whose centre is in none of
    them are dropped, also after a full-frame pass (a static object that never moved is not
    reported). None: no regions were given, everything counts.
    crops: integer crop boxes for the detector, or None for one full-frame pass.
    """

    areas: list[Box] | None
    crops: list[tuple[int, int, int, int]] | None


def plan_crops(
    regions: Sequence[Box],
    frame_shape: tuple[int, ...],
    *,
    padding: float,
    min_size: float,
    max_fraction: float,
    area_margin: float = 0.1,
) -> CropPlan:
    """Padded areas around `regions` and the merged crops covering them.

    With no regions (first frame after a restart) the whole frame is searched and kept: the
    caller decided the detector must run, so it sees everything.
    """
    h, w = frame_shape[:2]
    if not regions:
        return CropPlan(None, None)
    areas = [_pad(tuple(map(float, r)), area_margin, 0, w, h) for r in regions]
    padded = [_pad(tuple(map(float, r)), padding, min_size, w, h) for r in regions]
    merged = _merge(padded)
    area = sum((c[2] - c[0]) * (c[3] - c[1]) for c in merged)
    if area > max_fraction * w * h:
        return CropPlan(areas, None)
    crops = []
    for x1, y1, x2, y2 in merged:
        box = (int(np.floor(x1)), int(np.floor(y1)), int(np.ceil(x2)), int(np.ceil(y2)))
        if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
            crops.append(box)
    return CropPlan(areas, crops or None)


def _cut_by_crop(xyxy: np.ndarray, crop: tuple[int, int, int, int], w: int, h: int) -> np.ndarray:
    """Rows whose box touches an edge of the crop that is not also an edge of the frame."""
    x1, y1, x2, y2 = crop
    cut = np.zeros(len(xyxy), bool)
    if x1 > 0:
        cut |= xyxy[:, 0] <= _EDGE_PX
    if y1 > 0:
        cut |= xyxy[:, 1] <= _EDGE_PX
    if x2 < w:
        cut |= xyxy[:, 2] >= (x2 - x1) - _EDGE_PX
    if y2 < h:
        cut |= xyxy[:, 3] >= (y2 - y1) - _EDGE_PX
    return cut


def detect_in_crops(detector: Detector, image: np.ndarray, plan: CropPlan) -> Detections:
    """Detections in frame coordinates from the plan's crops (or the whole frame), kept only
    where the plan's areas are."""
    if plan.crops is None:
        merged = detector.detect(image)
    else:
        merged = _detect_crops(detector, image, plan.crops)
    if plan.areas is None or not len(merged):
        return merged
    return merged[_centre_in(merged.xyxy, plan.areas)]


def _detect_crops(detector: Detector, image: np.ndarray, crops: list[tuple[int, int, int, int]]) -> Detections:
    h, w = image.shape[:2]
    views = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in crops]
    batch = getattr(detector, "detect_batch", None)
    results = batch(views) if batch is not None and len(views) > 1 else [detector.detect(v) for v in views]
    parts = []
    for crop, dets in zip(crops, results):
        if not len(dets):
            continue
        dets = dets[~_cut_by_crop(dets.xyxy, crop, w, h)]
        offset = np.array([crop[0], crop[1], crop[0], crop[1]], np.float32)
        parts.append(Detections(dets.xyxy + offset, dets.confidence, dets.class_id))
    merged = Detections.merge(parts)
    if len(merged) < 2:
        return merged
    return merged[nms_per_class(merged.xyxy, merged.confidence, merged.class_id, CROSS_CROP_NMS_IOU)]


def _centre_in(xyxy: np.ndarray, areas: list[Box]) -> np.ndarray:
    cx = (xyxy[:, 0] + xyxy[:, 2]) / 2
    cy = (xyxy[:, 1] + xyxy[:, 3]) / 2
    a = np.asarray(areas, np.float32).reshape(-1, 4)
    inside = (cx[:, None] >= a[None, :, 0]) & (cx[:, None] <= a[None, :, 2]) \
        & (cy[:, None] >= a[None, :, 1]) & (cy[:, None] <= a[None, :, 3])
    return inside.any(axis=1)


def regions_with_tracks(regions: Sequence[Box], tracks: Detections) -> list[Box]:
    """Motion regions plus the boxes of tracked objects, so stationary objects stay in view."""
    return list(regions) + [tuple(map(float, b)) for b in tracks.xyxy]
