"""Small helpers shared by the detector tests."""

from __future__ import annotations

import cv2
import numpy as np


def draw_marker(image: np.ndarray, xyxy: tuple[int, int, int, int]) -> np.ndarray:
    x1, y1, x2, y2 = xyxy
    cv2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), (255, 0, 255), thickness=-1)
    return image


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def match_count(pred: np.ndarray, gt: np.ndarray, thr: float = 0.5) -> int:
    """True positives under greedy one-to-one matching at IoU >= thr."""
    iou = iou_matrix(pred, gt)
    tp = 0
    while iou.size and iou.max() >= thr:
        i, j = np.unravel_index(iou.argmax(), iou.shape)
        tp += 1
        iou[i, :] = 0
        iou[:, j] = 0
    return tp
