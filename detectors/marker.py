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
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        mask = cv2.inRange(hsv, HSV_LOW, HSV_HIGH)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes = []
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
