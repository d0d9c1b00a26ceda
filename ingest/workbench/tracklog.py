"""Record the tracks of a replay once, then run any rule set on them.

The detector and the tracker are the slow, noisy part of a replay; the rules are cheap and
deterministic. Recording what the rule engine saw on every frame (time, frame size, tracks) lets
`--compare` and the accuracy benchmark evaluate several rule versions on exactly the same
tracks, so a difference between two versions is the rules' doing, not the tracker's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from detectors.detections import Detections
from rules.config import RuleBase
from rules.engine import RuleEngine

from ingest.workbench.fence_events import FenceEvent


@dataclass(frozen=True)
class TrackFrame:
    t: float  # the frame's analysis time (what rules see)
    media_time: float  # seconds from the start of the file
    size: tuple[int, int]  # width, height in pixels
    tracks: Detections


@dataclass
class TrackLog:
    camera_id: str
    frames: list[TrackFrame] = field(default_factory=list)
    # Schedules need the site's time zone and the file's clock origin; as an observer the log
    # takes both from the replay's own rule engine, so both versions see the same clock.
    timezone: str = "UTC"
    clock_origin: float = 0.0

    def add(self, t: float, media_time: float | None, size: tuple[int, int], tracks: Detections) -> None:
        # Detections are immutable columns, so keeping a reference is safe and costs nothing.
        self.frames.append(TrackFrame(t, t if media_time is None else media_time, size, tracks))

    def run_rules(self, specs: Sequence[RuleBase]) -> list[FenceEvent]:
        """Every event `specs` fire on the recorded tracks, in time order."""
        engine = RuleEngine(self.camera_id, specs, timezone=self.timezone, clock_origin=self.clock_origin)
        out: list[FenceEvent] = []
        for fr in self.frames:
            for ev in engine.update(fr.tracks, fr.t, fr.size):
                out.append(FenceEvent.from_rule_event(ev, fr.media_time))
        return out

    def __call__(self, pipeline, frame, alerts) -> None:
        """As a replay observer: record what the rule engine saw on this frame."""
        if not self.frames:
            self.timezone = getattr(pipeline.engine, "timezone", self.timezone)
            self.clock_origin = getattr(pipeline.engine, "clock_origin", self.clock_origin)
        h, w = frame.image.shape[:2]
        self.add(frame.t, frame.media_time, (w, h), pipeline.last_tracks)
