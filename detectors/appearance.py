"""A cheap colour descriptor per box: what a person wears above and below the waist.

Used only to confirm that a track's box now covers somebody else (detectors/swaps.py), never
to match on its own: at 30-80 px per person, colour tells a light top from a dark one, or jeans
from black trousers, and nothing finer. Two parts (torso 15-50 % of the box height, legs
55-90 %), each an HSV histogram (8 hue × 4 saturation × 4 value bins) of the box's middle 60 %
in width, so the background at the box's edges weighs little. Compared with the Hellinger
distance (0 = same colours, 1 = nothing in common), averaged over the two parts.

Measured on PETS09-S2L1 ground-truth boxes of people not overlapping anyone (every 3rd frame):
the same person within 1.5 s is at a median 0.36, 97 % below 0.6; two different people are at
a median 0.78, 7 % below 0.6. A median Lab colour per part separated far worse (60 % of
different people within the same-person 95th percentile, against 4 % here).
"""

from __future__ import annotations

import cv2
import numpy as np

PARTS = ((0.15, 0.50), (0.55, 0.90))
BINS = (8, 4, 4)
_PER_PART = int(np.prod(BINS))
DIM = _PER_PART * len(PARTS)


def describe(image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """(N, DIM) descriptors of the boxes in a BGR image: per part the square root of the
    normalised histogram (so a dot product is the Bhattacharyya coefficient); NaN rows for boxes
    without pixels."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    out = np.full((len(xyxy), DIM), np.nan)
    if image is None or image.ndim != 3 or not len(xyxy):
        return out
    h_img, w_img = image.shape[:2]
    for k, (x1, y1, x2, y2) in enumerate(xyxy):
        w, h = x2 - x1, y2 - y1
        xa, xb = int(max(0, x1 + 0.2 * w)), int(min(w_img, x2 - 0.2 * w))
        ya, yb = int(max(0, y1 + PARTS[0][0] * h)), int(min(h_img, y1 + PARTS[-1][1] * h))
        if xb <= xa or yb <= ya:
            continue
        # Convert only the crop: a frame-wide conversion would cost more than all boxes together.
        hsv = cv2.cvtColor(np.ascontiguousarray(image[ya:yb, xa:xb]), cv2.COLOR_BGR2HSV)
        row = []
        for lo, hi in PARTS:
            a, b = max(0, int(y1 + lo * h) - ya), max(0, int(min(h_img, y1 + hi * h)) - ya)
            if b <= a:
                break
            hist = cv2.calcHist([hsv[a:b]], [0, 1, 2], None, list(BINS), [0, 180, 0, 256, 0, 256]).ravel()
            row.append(np.sqrt(hist / max(float(hist.sum()), 1.0)))
        if len(row) == len(PARTS):
            out[k] = np.concatenate(row)
    return out


def mean(descriptors) -> np.ndarray:
    """One descriptor for several frames of the same box (histograms averaged, re-normalised)."""
    sq = np.asarray(descriptors, dtype=np.float64).reshape(-1, len(PARTS), _PER_PART) ** 2
    avg = sq.mean(axis=0)
    avg /= np.maximum(avg.sum(axis=1, keepdims=True), 1e-12)
    return np.sqrt(avg).ravel()


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Hellinger distance averaged over the parts: 0 same colours, 1 nothing in common."""
    bc = (np.asarray(a).reshape(len(PARTS), -1) * np.asarray(b).reshape(len(PARTS), -1)).sum(axis=1)
    return float(np.sqrt(np.clip(1.0 - bc, 0.0, 1.0)).mean())
