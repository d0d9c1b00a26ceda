"""Deterministic stand-in detector: saturated magenta blobs are "people".

Generated demo scenes and end-to-end tests draw moving magenta (BGR 255, 0, 255) rectangles,
so the whole pipeline can be tested exactly, with no model and in microseconds per frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from detectors.config import DetectorConfig
from detectors.detections import Detections
from detectors.labels import class_id

MARKER_BGR = (255, 0, 255)
CONFIDENCE = 0.9
# Magenta is hue 300°, 150 on OpenCV's 0..179 scale. The band and the saturation/value floors
# leave room for video-codec colour bleeding while rejecting skin, red and purple clothing.
HSV_LOW = np.array([140, 150, 150], dtype=np.uint8)
HSV_HIGH = np.array([160, 255, 255], dtype=np.uint8)
DEFAULT_MIN_AREA = 50.0
# Every colour of the HSV band above lies in this YCrCb box (red and blue both well above luma:
# the band's exact extent is Y 46..167, Cr 150..242, Cb 142..227; 2 levels of margin here). The
# YCrCb conversion plus one inRange cost about two thirds of the HSV conversion plus inRange on a
# whole frame, and grey, skin and foliage fail it, so the exact HSV test then runs only on the
# few small areas this box lets through. tests/detectors/test_marker_prefilter.py checks the box
# against all 2^24 colours, so the detections are identical to HSV on the whole frame.
PREFILTER_LOW = np.array([44, 148, 140], dtype=np.uint8)
PREFILTER_HIGH = np.array([169, 255, 255], dtype=np.uint8)


def _merge_rects(rects: list[list[int]], gap: int) -> list[list[int]]:
    """Union of x0,y0,x1,y1 rectangles until none are within `gap` pixels of each other."""
    merged = True
    while merged and len(rects) > 1:
        merged = False
        out: list[list[int]] = []
        for r in rects:
            for o in out:
                if r[0] <= o[2] + gap and o[0] <= r[2] + gap and r[1] <= o[3] + gap and o[1] <= r[3] + gap:
                    o[0], o[1], o[2], o[3] = min(o[0], r[0]), min(o[1], r[1]), max(o[2], r[2]), max(o[3], r[3])
                    merged = True
                    break
            else:
                out.append(r)
        rects = out
    return rects


class MarkerDetector:
    name = "fake"

    def __init__(self, cfg: DetectorConfig | None = None) -> None:
        cfg = cfg or DetectorConfig(kind="fake")
        self.min_area = cfg.min_area or DEFAULT_MIN_AREA
        self.enabled = "person" in cfg.classes
        self.person = class_id("person")

    def detect(self, image: np.ndarray) -> Detections:
        if not self.enabled:
            return Detections.empty()
        boxes = []
        for x0, y0, x1, y1 in self._candidate_areas(image):
            # Each area holds whole connected blobs (and whatever sits in their holes), so the
            # outer contours found inside it are the ones a full-frame search would find.
            hsv = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
            mask = cv2.inRange(hsv, HSV_LOW, HSV_HIGH)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0))
            for c in contours:
                x, y, w, h = cv2.boundingRect(c)
                if w * h >= self.min_area:
                    boxes.append((x, y, x + w, y + h))
        if not boxes:
            return Detections.empty()
        # Sorted top-to-bottom, left-to-right so the output order is stable across OpenCV builds.
        xyxy = np.array(sorted(boxes, key=lambda b: (b[1], b[0])), dtype=np.float32)
        n = len(xyxy)
        return Detections(xyxy, np.full(n, CONFIDENCE, np.float32), np.full(n, self.person, np.int32))

    @staticmethod
    def _candidate_areas(image: np.ndarray) -> list[list[int]]:
        """Disjoint rectangles (1 px margin, clipped to the frame) covering every pixel that
        passes the YCrCb prefilter; empty for a frame without magenta-ish pixels."""
        rough = cv2.inRange(cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb), PREFILTER_LOW, PREFILTER_HIGH)
        if not cv2.countNonZero(rough):
            return []
        contours, _ = cv2.findContours(rough, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        h, w = rough.shape
        rects = []
        for c in contours:
            x, y, cw, ch = cv2.boundingRect(c)
            rects.append([max(0, x - 1), max(0, y - 1), min(w, x + cw + 1), min(h, y + ch + 1)])
        # Touching or overlapping areas become one, so no blob is split or seen twice.
        return _merge_rects(rects, gap=1)
