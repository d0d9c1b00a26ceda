"""Columnar detection and track batches: the contract between detectors, trackers and rules.

One `Detections` holds N objects of one frame as parallel numpy columns, in the spirit of
supervision's `Detections`. Index it with a boolean mask, an index array or a slice to get a
smaller batch. Tracks are the same type with `tracker_id >= 0`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Anchor = Literal["bottom_center", "center", "top_center"]

UNTRACKED = -1


@dataclass(frozen=True, eq=False)
class Detections:
    """N boxes in pixel coordinates of the frame they came from.

    xyxy: (N, 4) float32 left, top, right, bottom.
    confidence: (N,) float32 in [0, 1].
    class_id: (N,) int32, COCO ids (see `detectors.labels`).
    tracker_id: (N,) int64, `UNTRACKED` (-1) until a tracker assigns ids.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    tracker_id: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.class_id, dtype=np.int32).reshape(-1)
        tid = (
            np.full(n, UNTRACKED, dtype=np.int64)
            if self.tracker_id is None
            else np.asarray(self.tracker_id, dtype=np.int64).reshape(-1)
        )
        for name, col in (("confidence", conf), ("class_id", cls), ("tracker_id", tid)):
            if len(col) != n:
                raise ValueError(f"Detections.{name} has {len(col)} rows, xyxy has {n}")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "class_id", cls)
        object.__setattr__(self, "tracker_id", tid)

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))

    @classmethod
    def merge(cls, parts: list["Detections"]) -> "Detections":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.xyxy for p in parts]),
            np.concatenate([p.confidence for p in parts]),
            np.concatenate([p.class_id for p in parts]),
            np.concatenate([p.tracker_id for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            self.xyxy[index], self.confidence[index], self.class_id[index], self.tracker_id[index]
        )

    @property
    def is_tracked(self) -> np.ndarray:
        return self.tracker_id >= 0

    def anchors(self, anchor: Anchor = "bottom_center") -> np.ndarray:
        """(N, 2) float32 points that rules test against zones and lines."""
        x = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2
        if anchor == "bottom_center":
            y = self.xyxy[:, 3]
        elif anchor == "top_center":
            y = self.xyxy[:, 1]
        elif anchor == "center":
            y = (self.xyxy[:, 1] + self.xyxy[:, 3]) / 2
        else:
            raise ValueError(f"unknown anchor {anchor!r}")
        return np.stack([x, y], axis=1).astype(np.float32)

    def to_supervision(self):
        import supervision as sv

        return sv.Detections(
            xyxy=self.xyxy.astype(np.float32),
            confidence=self.confidence,
            class_id=self.class_id.astype(int),
            tracker_id=None if not self.is_tracked.any() else self.tracker_id.astype(int),
        )

    @classmethod
    def from_supervision(cls, d) -> "Detections":
        n = len(d)
        return cls(
            d.xyxy if n else np.zeros((0, 4), np.float32),
            d.confidence if d.confidence is not None else np.ones(n, np.float32),
            d.class_id if d.class_id is not None else np.zeros(n, np.int32),
            d.tracker_id if d.tracker_id is not None else None,
        )
