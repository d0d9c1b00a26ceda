"""The `Detector` protocol every backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from detectors.detections import Detections


@runtime_checkable
class Detector(Protocol):
    """Turns one BGR image (H, W, 3 uint8) into detections in that image's pixel coordinates.

    Backends that run several images in one inference call (cross-camera batching, several
    motion crops) also offer `detect_batch(images) -> list[Detections]`; it is optional, so
    callers look it up with getattr and fall back to `detect` per image.
    """

    name: str

    def detect(self, image: np.ndarray) -> Detections: ...
