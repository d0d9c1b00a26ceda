"""Spots: places where an object stands still, remembered across occlusions and id switches.

abandoned_object and object_removed are about an *object at a place*, not about a track: a bag on
a bench is hidden by every passer-by, and the tracker often gives it a new id when it shows up
again. So per object the rules keep a `Spot`: where it stands (the running mean of its anchor,
as in rules/stationary.py), since when, when an object was last seen in it, and when someone of
the owner classes was last near it.

Per frame (`SpotTracker.update`):
1. A track seen within `radius_px` of its spot's mean keeps it (box jitter).
2. A track without a spot, or that moved out of its own, takes over the nearest spot of its
   class within the radius whose object was not seen this frame (the same bag back after an
   occlusion, under a new id); otherwise it starts a new spot where it is. A spot its track
   moved out of is kept only if the object had stood there `keep_after_s` (a removal to
   report); a carried bag leaves no trail of spots.
3. Spots with an owner-class box within `owner_px` of their mean get `last_owner = t`. The box,
   not its anchor: a handbag held by someone standing still is inside their box, far from
   their feet.
4. Spots in which no object was seen for `forget_after_s` are dropped, which bounds the memory
   by the tracks of the last `forget_after_s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detectors.detections import Detections
from detectors.labels import label
from rules.events import EventObject


@dataclass
class Spot:
    class_id: int
    since: float  # the object stopped here
    sum_x: float
    sum_y: float
    n: int
    last_present: float  # last frame an object was seen in the spot
    track_id: int  # track bound to the spot now, -1 when none
    last_track_id: int  # the last track seen in it (for events once the track is gone)
    bbox: tuple[float, float, float, float]
    point: tuple[float, float]
    confidence: float
    last_owner: float = -math.inf  # last frame someone of the owner classes was near
    fired: bool = False
    last_fired: float = -math.inf  # this spot's event

    @property
    def center(self) -> tuple[float, float]:
        return (self.sum_x / self.n, self.sum_y / self.n)

    def static_s(self, t: float) -> float:
        """How long the object has stood here, up to `t` or until it was last seen."""
        return min(t, self.last_present) - self.since

    def add(self, t: float, track_id: int, point: np.ndarray, bbox: np.ndarray, conf: float) -> None:
        self.sum_x += float(point[0])
        self.sum_y += float(point[1])
        self.n += 1
        self.last_present = t
        self.track_id = self.last_track_id = int(track_id)
        self.bbox = tuple(float(v) for v in bbox)  # type: ignore[assignment]
        self.point = (float(point[0]), float(point[1]))
        self.confidence = float(conf)

    def event_object(self) -> EventObject:
        """The object as last seen in the spot."""
        return EventObject(
            track_id=self.last_track_id,
            class_id=self.class_id,
            label=label(self.class_id),
            confidence=self.confidence,
            bbox=self.bbox,
            point=self.point,
        )


class SpotTracker:
    def __init__(self, radius_px: float, owner_px: float, forget_after_s: float, keep_after_s: float):
        self.radius_px = float(radius_px)
        self.owner_px = float(owner_px)
        self.forget_after_s = float(forget_after_s)
        self.keep_after_s = float(keep_after_s)
        self.spots: list[Spot] = []
        self._by_track: dict[int, Spot] = {}

    def __len__(self) -> int:
        return len(self.spots)

    def update(self, objects: Detections, points: np.ndarray, owners: np.ndarray, t: float) -> None:
        """`objects` are the tracked rows of the watched classes (anchors `points`, pixels);
        `owners` the (P, 4) xyxy boxes of the owner classes this frame."""
        ids = objects.tracker_id.tolist()
        homeless: list[int] = []
        for i, tid in enumerate(ids):  # 1. tracks still in their spot
            spot = self._by_track.get(tid)
            if spot is not None and self._dist(spot, points[i]) <= self.radius_px:
                spot.add(t, tid, points[i], objects.xyxy[i], objects.confidence[i])
                continue
            if spot is not None:  # moved out
                del self._by_track[tid]
                spot.track_id = -1
                if spot.static_s(t) < self.keep_after_s:
                    self.spots.remove(spot)
            homeless.append(i)
        for i in homeless:  # 2. take over a spot whose object is not seen, or start one
            tid, cid = ids[i], int(objects.class_id[i])
            spot = self._free_spot_near(cid, points[i], t)
            if spot is None:
                x, y = (float(v) for v in points[i])
                spot = Spot(cid, t, 0.0, 0.0, 0, t, tid, tid, (0.0, 0.0, 0.0, 0.0), (x, y), 0.0)
                self.spots.append(spot)
            elif spot.track_id >= 0:
                self._by_track.pop(spot.track_id, None)
            spot.add(t, tid, points[i], objects.xyxy[i], objects.confidence[i])
            self._by_track[tid] = spot
        self._mark_owners(owners, t)
        self._expire(t)

    def _dist(self, spot: Spot, p: np.ndarray) -> float:
        cx, cy = spot.center
        return math.hypot(float(p[0]) - cx, float(p[1]) - cy)

    def _free_spot_near(self, class_id: int, p: np.ndarray, t: float) -> Spot | None:
        best, best_d = None, self.radius_px
        for spot in self.spots:
            if spot.class_id != class_id or spot.last_present >= t:
                continue
            d = self._dist(spot, p)
            if d <= best_d:
                best, best_d = spot, d
        return best

    def _mark_owners(self, owners: np.ndarray, t: float) -> None:
        if not len(owners) or not self.spots:
            return
        c = np.array([s.center for s in self.spots], dtype=np.float64)[:, None, :]  # (S, 1, 2)
        # Distance from each spot to each owner's box (0 inside it), (S, P).
        dx = np.maximum(np.maximum(owners[None, :, 0] - c[..., 0], c[..., 0] - owners[None, :, 2]), 0.0)
        dy = np.maximum(np.maximum(owners[None, :, 1] - c[..., 1], c[..., 1] - owners[None, :, 3]), 0.0)
        for k in np.flatnonzero(np.hypot(dx, dy).min(axis=1) <= self.owner_px):
            self.spots[int(k)].last_owner = t

    def _expire(self, t: float) -> None:
        stale = [s for s in self.spots if t - s.last_present > self.forget_after_s]
        for spot in stale:
            self.drop(spot)

    def drop(self, spot: Spot) -> None:
        self.spots.remove(spot)
        if spot.track_id >= 0 and self._by_track.get(spot.track_id) is spot:
            del self._by_track[spot.track_id]
