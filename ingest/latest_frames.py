"""The newest frame of each camera as a JPEG in the data folder, for the console's live views.

Written at most once per `every_s` per camera, atomically (tmp + rename), so the API can serve
`<data_dir>/frames/<camera>.jpg` on the same machine without a frame ever being half-written.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np


class LatestFrames:
    def __init__(self, root: Path, every_s: float = 1.0, quality: int = 80):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.every_s = every_s
        self.quality = quality
        self._last: dict[str, float] = {}

    def offer(self, camera_id: str, image: np.ndarray, t: float) -> bool:
        last = self._last.get(camera_id)
        if last is not None and 0 <= t - last < self.every_s:
            return False
        self._last[camera_id] = t
        ok, jpg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return False
        target = self.root / f"{camera_id}.jpg"
        tmp = target.with_suffix(".jpg.tmp")
        tmp.write_bytes(jpg.tobytes())
        os.replace(tmp, target)
        return True
