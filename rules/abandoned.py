"""Abandoned object: an object (a bag by default) stands still with nobody near it -> one event.

The rule keeps a spot per object (rules/static_objects.py: survives occlusions and the tracker
re-numbering the object). A spot fires when, on a frame the object is seen in it,
- it has stood there for `min_static_s` (moved less than `static_radius` from its mean), and
- nobody of `owner_classes` has been within `owner_distance` of it for `unattended_s`, counted
  from when the last one was near it, or from when it stopped if nobody ever was.
So someone who sits beside their suitcase never triggers it, and a bag dropped by someone who
walks away fires `unattended_s` after they left (or `min_static_s` after it was put down,
whichever is later). Each spot fires once however long the bag stays; when the object is moved
the rule re-arms, and a new spot of the same object fires only once `cooldown_s` has passed since
its last event. The optional `polygon` limits the rule to objects whose anchor is inside it.
"""

from __future__ import annotations

import math

import numpy as np

from detectors.detections import Detections
from detectors.labels import class_id
from rules.common import RuleRuntime, selection_mask
from rules.config import AbandonedObjectSpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels
from rules.static_objects import Spot, SpotTracker

_EPS = 1e-9  # float frame times


class StaticObjectRule(RuleRuntime):
    """What abandoned_object and object_removed share: the zone, the owner selection, the spots."""

    def __init__(self, spec, camera_id: str, frame_size: tuple[int, int], keep_after_s: float):
        super().__init__(spec, camera_id, frame_size)
        width = self.frame_size[0]
        self.zone = PolygonZone(to_pixels(spec.polygon, self.frame_size)) if spec.polygon else None
        self.owner_ids = np.array([class_id(c) for c in spec.owner_classes], dtype=np.int32)
        self.spots = SpotTracker(
            radius_px=spec.static_radius * width,
            owner_px=spec.owner_distance * width,
            forget_after_s=spec.forget_after_s,
            keep_after_s=keep_after_s,
        )
        # Track id -> its last event, for the cooldown of an object that moved to a new spot;
        # entries older than the cooldown are dropped, so it stays small.
        self._fired_at: dict[int, float] = {}

    def geometry_px(self) -> np.ndarray:
        """(K, 2) zone vertices in pixels; empty without a zone."""
        return np.zeros((0, 2)) if self.zone is None else self.zone.vertices.copy()

    def state_size(self) -> int:
        return len(self.spots)

    def observe(self, tracks: Detections, t: float) -> None:
        """Update the spots with this frame's objects and owners."""
        objects, points = self.select(tracks)
        if self.zone is not None and len(objects):
            inside = self.zone.contains(points)
            objects, points = objects[inside], points[inside]
        owners = np.zeros((0, 4))
        if len(tracks):
            mask = selection_mask(tracks, self.owner_ids, self.spec.min_confidence)
            owners = tracks.xyxy[mask].astype(np.float64)
        self.spots.update(objects, points, owners, t)

    def cooled(self, spot: Spot, t: float) -> bool:
        last = max(spot.last_fired, self._fired_at.get(spot.last_track_id, -math.inf))
        return t - last >= self.spec.cooldown_s

    def fire(self, spot: Spot, t: float, started_at: float, evidence: dict) -> RuleEvent:
        spot.fired, spot.last_fired = True, t
        cooldown = self.spec.cooldown_s
        self._fired_at = {k: v for k, v in self._fired_at.items() if t - v < cooldown}
        self._fired_at[spot.last_track_id] = t
        return self.make_event(
            t,
            started_at=started_at,
            track_id=spot.last_track_id,
            objects=(spot.event_object(),),
            evidence=evidence,
        )


class AbandonedObject(StaticObjectRule):
    kind = "abandoned_object"
    spec: AbandonedObjectSpec

    def __init__(self, spec: AbandonedObjectSpec, camera_id: str, frame_size: tuple[int, int]):
        # A spot its object moved out of has nothing left to report: no need to keep it.
        super().__init__(spec, camera_id, frame_size, keep_after_s=float("inf"))

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        self.observe(tracks, t)
        spec, events = self.spec, []
        for spot in self.spots.spots:
            if spot.fired or spot.last_present != t:
                continue
            unattended_from = max(spot.since, spot.last_owner)
            if (
                t - spot.since >= spec.min_static_s - _EPS
                and t - unattended_from >= spec.unattended_s - _EPS
                and self.cooled(spot, t)
            ):
                events.append(self.fire(spot, t, spot.since, {
                    "static_s": round(t - spot.since, 3),
                    "unattended_s": round(t - unattended_from, 3),
                    "owner_seen": math.isfinite(spot.last_owner),
                }))
        return events
