"""The Frame every stage after ingest receives."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass
class Frame:
    """One decoded image of one stream.

    `t` is the time analysis uses (DESIGN.md: time is seconds from the frame timestamp):
    - live streams (RTSP, HTTP): Unix epoch seconds when the frame was captured by the decoder;
    - files and generated scenes with `realtime=True`: Unix epoch seconds of playback
      (playback start + media time, plus the durations of earlier loops);
    - files and generated scenes with `realtime=False`: media time in seconds, increasing across
      loops (so it never goes backwards), which makes replays deterministic.
    `t_wall` is always epoch seconds when the frame was decoded; `media_time` is seconds from the
    start of the file (None for live streams). `image` is HxWx3 uint8 BGR; from
    `WorkerSupervisor.frames()` it may be a view on shared memory (see there for how long it stays
    valid); `copy()` detaches it.
    """

    camera_id: str
    seq: int
    t: float
    t_wall: float
    media_time: float | None
    image: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.image.shape)  # type: ignore[return-value]

    def header(self) -> dict[str, Any]:
        """Everything but the image: what travels between processes beside the shared memory."""
        return {"camera_id": self.camera_id, "seq": self.seq, "t": self.t, "t_wall": self.t_wall,
                "media_time": self.media_time, "meta": self.meta}

    def copy(self) -> Frame:
        """A frame whose image is owned memory (safe to keep after the shared slot is reused)."""
        return replace(self, image=self.image.copy(), meta=dict(self.meta))
