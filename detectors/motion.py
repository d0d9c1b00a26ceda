"""Motion gate: decide per frame whether the (expensive) detector has to run.

Most patrol cameras look at an empty scene most of the time; skipping still frames cuts the
detector's load several-fold. Stationary objects that are already tracked are re-checked
every `recheck_interval_s` so a person who stops moving is not lost. For `warmup_s` after a
(re)start every frame passes: the background is not learnt yet, and people already standing in
view need consecutive detections before the tracker gives them an id.
"""

from __future__ import annotations

import cv2
import numpy as np

from detectors.base import Detector
from detectors.config import MotionConfig
from detectors.detections import Detections
from detectors.regions import detect_in_crops, plan_crops, regions_with_tracks

# MOG2 marks shadows 127 and foreground 255; shadows of passers-by are not motion of interest.
FOREGROUND = 200
# A 3×3 opening removes single-pixel sensor noise and compression speckle.
_KERNEL = np.ones((3, 3), np.uint8)


class MotionGate:
    def __init__(self, cfg: MotionConfig) -> None:
        self.cfg = cfg
        self.last_fraction: float = 0.0
        self.last_regions: list[tuple[float, float, float, float]] = []
        # Crops the last `detect` used (None: the whole frame), for benchmarks and tests.
        self.last_crops: list[tuple[int, int, int, int]] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the background (call after a stream reconnects or the camera moves)."""
        self._bg = None
        self._prev: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None
        self._last_t: float | None = None
        self._last_pass_t: float | None = None
        self._start_t: float | None = None

    def check(self, image: np.ndarray, t: float, has_tracks: bool) -> bool:
        """True when this frame must go to the detector.

        That is: any frame within `warmup_s` of a (re)start (the first one always), a frame with
        enough changed area, or, while tracks exist, a frame `recheck_interval_s` seconds or more
        after the last one that went.
        """
        if not self.cfg.enabled:
            h, w = image.shape[:2]
            self.last_fraction, self.last_regions = 1.0, [(0.0, 0.0, float(w), float(h))]
            return True
        if image.shape != self._shape or (self._last_t is not None and t < self._last_t):
            # New resolution or time went backwards (file looped, stream restarted).
            self.reset()
            self._shape = image.shape
        if self._last_t is None:
            self._start_t = t
        first = self._last_t is None
        warming = t - self._start_t < self.cfg.warmup_s
        self._last_t = t

        small, scale = self._prepare(image)
        mask = self._foreground(small)
        self.last_fraction = float(np.count_nonzero(mask)) / mask.size
        self.last_regions = self._regions(mask, scale) if self.last_fraction > 0 else []

        moved = self.last_fraction > 0 and self.last_fraction >= self.cfg.min_area_fraction
        recheck = (
            has_tracks
            and self._last_pass_t is not None
            and t - self._last_pass_t >= self.cfg.recheck_interval_s
        )
        if first or warming or moved or recheck:
            self._last_pass_t = t
            return True
        return False

    def detect(self, detector: Detector, image: np.ndarray, tracks: Detections) -> Detections:
        """Run `detector` on the frame the last `check` passed: on crops around its motion
        regions and the given tracks' boxes (`crop_regions`), or on the whole frame."""
        if not self.cfg.enabled or not self.cfg.crop_regions:
            self.last_crops = None
            return detector.detect(image)
        plan = plan_crops(
            regions_with_tracks(self.last_regions, tracks),
            image.shape,
            padding=self.cfg.crop_padding,
            min_size=self.cfg.crop_min_size,
            max_fraction=self.cfg.crop_max_fraction,
        )
        self.last_crops = plan.crops
        return detect_in_crops(detector, image, plan)

    def _prepare(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = image.shape[:2]
        scale = min(1.0, self.cfg.work_width / w)
        if scale < 1.0:
            # INTER_LINEAR, not INTER_AREA: 0.18 vs 1.3 ms for 720p -> 320 px, the gate's largest
            # cost per frame; the blur below removes the aliasing that area averaging would.
            image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
        # Colour, not grey: a grey conversion makes e.g. magenta on mid-grey (luma 105 vs 120)
        # nearly invisible; at the working size the extra channels cost little.
        return cv2.GaussianBlur(image, (5, 5), 0), scale

    def _foreground(self, small: np.ndarray) -> np.ndarray:
        if self.cfg.method == "mog2":
            if self._bg is None:
                self._bg = cv2.createBackgroundSubtractorMOG2(history=500, varThreshold=16, detectShadows=True)
                self._bg.apply(small)
                return np.zeros(small.shape[:2], np.uint8)
            mask = (self._bg.apply(small) > FOREGROUND).astype(np.uint8)
        else:
            prev, self._prev = self._prev, small
            if prev is None:
                return np.zeros(small.shape[:2], np.uint8)
            diff = cv2.absdiff(small, prev)
            if diff.ndim == 3:
                diff = diff.max(axis=2)
            mask = (diff >= self.cfg.pixel_threshold).astype(np.uint8)
        return cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)

    @staticmethod
    def _regions(mask: np.ndarray, scale: float) -> list[tuple[float, float, float, float]]:
        # Dilate so the pieces of one walking person (legs, torso) become one region.
        joined = cv2.dilate(mask, _KERNEL, iterations=2)
        contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        regions = []
        for c in contours:
            x, y, w, h = cv2.boundingRect(c)
            regions.append((x / scale, y / scale, (x + w) / scale, (y + h) / scale))
        return regions
