"""Image and box helpers shared by the YOLO-family backends: letterbox, NMS, class filtering."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from detectors.detections import Detections
from detectors.labels import class_id

LETTERBOX_FILL = 114


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Resize keeping the aspect ratio and paste at the top-left of a size×size canvas.

    Top-left (not centred) placement is what YOLOX was trained with, and it means undoing the
    letterbox is a single division by the returned ratio, with no offset.
    """
    h, w = image.shape[:2]
    r = min(size / h, size / w)
    nw, nh = int(w * r), int(h * r)
    canvas = np.full((size, size, 3), LETTERBOX_FILL, dtype=np.uint8)
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, r


def class_ids(names: Iterable[str]) -> np.ndarray:
    return np.array(sorted({class_id(n) for n in names}), dtype=np.int32)


def nms_per_class(xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression run separately per class, best first.

    Per class so that a person standing in front of a car does not suppress the car. Plain
    numpy: after the score filter only tens of boxes remain, and cv2.dnn.NMSBoxes rejects
    zero scores and differs between OpenCV versions.
    """
    xyxy = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
    if len(xyxy) == 0:
        return np.zeros(0, dtype=np.int64)
    # Offsetting each class into its own coordinate range makes boxes of different classes
    # never overlap, so one pass does per-class NMS.
    span = float(xyxy.max() - xyxy.min()) + 1.0
    boxes = xyxy + np.asarray(classes, dtype=np.float32)[:, None] * span
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep = []
    while len(order):
        i, rest = order[0], order[1:]
        keep.append(i)
        lt = np.maximum(boxes[i, :2], boxes[rest, :2])
        rb = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
        overlap = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = rest[overlap <= iou]
    return np.array(keep, dtype=np.int64)


def finalize(
    xyxy: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray,
    *,
    keep_classes: np.ndarray,
    min_score: float,
    min_area: float,
    nms_iou: float,
    image_shape: tuple[int, ...],
) -> Detections:
    """Filter by class, score and area, clip to the image, then per-class NMS."""
    xyxy = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    classes = np.asarray(classes, dtype=np.int32).reshape(-1)
    h, w = image_shape[:2]
    xyxy = xyxy.copy()
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, w)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, h)
    area = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    mask = np.isin(classes, keep_classes) & (scores >= min_score) & (area > 0) & (area >= min_area)
    xyxy, scores, classes = xyxy[mask], scores[mask], classes[mask]
    keep = nms_per_class(xyxy, scores, classes, nms_iou)
    return Detections(xyxy[keep], scores[keep], classes[keep])
