"""The `Detector` protocol every backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from detectors.detections import Detections


@runtime_checkable
class Detector(Protocol):
    """Turns one BGR image (H, W, 3 uint8) into detections in that image's pixel coordinates."""

    name: str

    def detect(self, image: np.ndarray) -> Detections: ...
