"""Crowding: at least `min_count` objects in a zone for `min_duration_s` -> one event.

This rule is about a group, not a track: the event's `track_id` is -1 and its objects are all
tracks inside the zone when it fires. An "episode" starts when the count reaches min_count; a
dip below it lasting at most `drop_grace_s` (a missed detection, one person briefly hidden)
continues the episode. Each episode fires at most once, and a new episode fires only once
`cooldown_s` has passed since the rule's last event. The state is a few numbers, whatever the
number of tracks, so there is no per-track state to expire.
"""

from __future__ import annotations

import numpy as np

from detectors.detections import Detections
from rules.common import RuleRuntime, event_object
from rules.config import CrowdingSpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels


class Crowding(RuleRuntime):
    kind = "crowding"
    spec: CrowdingSpec

    def __init__(self, spec: CrowdingSpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.zone = PolygonZone(to_pixels(spec.polygon, self.frame_size))
        self.since: float | None = None  # start of the current episode
        self.last_ok = float("-inf")  # last frame with count >= min_count
        self.ok_last = False  # the previous frame had count >= min_count
        self.fired = False  # the current episode already fired
        self.last_fired: float | None = None
        self.peak = 0  # highest count in the current episode

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polygon vertices in pixels."""
        return self.zone.vertices.copy()

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        spec = self.spec
        sel, points = self.select(tracks)
        inside = self.zone.contains(points)
        count = int(inside.sum())
        ok = count >= spec.min_count
        # As in zone_intrusion, only time spent below the threshold counts against the grace,
        # so consecutive frames above it never break an episode whatever the frame rate.
        dipped_too_long = not self.ok_last and t - self.last_ok > spec.drop_grace_s
        self.ok_last = ok
        if not ok:
            if dipped_too_long:
                self.since, self.peak = None, 0
            return []
        if self.since is None or dipped_too_long:
            self.since, self.fired, self.peak = t, False, 0
        self.last_ok = t
        self.peak = max(self.peak, count)
        duration = t - self.since
        cooled = self.last_fired is None or t - self.last_fired >= spec.cooldown_s
        if self.fired or duration < spec.min_duration_s - 1e-9 or not cooled:
            return []
        self.fired, self.last_fired = True, t
        idx = np.flatnonzero(inside)
        objects = tuple(event_object(sel, int(i), points[i]) for i in idx)
        return [
            self.make_event(
                t,
                started_at=self.since,
                track_id=-1,
                objects=objects,
                evidence={
                    "count": count,
                    "peak_count": self.peak,
                    "duration_s": round(duration, 3),
                },
            )
        ]
