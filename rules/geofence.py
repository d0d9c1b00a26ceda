"""Geofence: a track's ground position enters, stays in or leaves lat/lon polygons -> events.

The fence is drawn on a map, so the rule needs where each track stands on the ground. The
engine passes `ground`, a function from (N, 2) image pixels to (N, 2) [lat, lon] for this
frame (a calibrated camera's homography, or a drone's telemetry): see `RuleEngine.update`.
Without it (a camera with no calibration, a drone frame without telemetry) the rule sees no
tracks that frame, as if they were hidden; rows the function cannot map (NaN: a drone pixel
above the horizon) count as unseen too.

The state machine is zone_entrance's, with separate hysteresis per direction: per track a firm
side (inside or outside) that flips only once the position has been on the other side for
`min_inside_s` (going in) or `min_outside_s` (going out). A track's first sighting sets its side
without an event: a track that appears inside was not seen entering. Then
- `enter` fires on each flip to inside (started_at: the first frame seen inside);
- `exit` fires on each flip to outside (started_at: the first frame seen outside);
- `inside` fires once per stay when the track has been inside for `min_inside_s`, also a track
  first seen inside; leaving re-arms it.
A track fires again only once `cooldown_s` has passed since its last event; a crossing during
the cooldown still flips the side. Occlusions keep the state until `forget_after_s`.
Polygons are tested in the (lon, lat) plane: fine for fences of a few kilometres, which must
not cross the ±180° meridian.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import shapely

from detectors.detections import Detections
from rules.common import VectorRule, event_object, settle_side
from rules.config import GeofenceSpec
from rules.events import RuleEvent
from rules.slots import FrameView, TrackTable

GroundFn = Callable[[np.ndarray], np.ndarray]  # (N, 2) pixels -> (N, 2) lat, lon

_EPS = 1e-9
INSIDE, OUTSIDE = 1.0, -1.0


class Geofence(VectorRule):
    kind = "geofence"
    spec: GeofenceSpec
    # Stepped by itself with the frame's ground mapping, not in the engine's shared batches.
    vectorized = False
    uses_ground = True
    columns = (
        ("firm", 0.0),  # +1 inside, -1 outside, 0 never seen
        ("candidate", 0.0),  # the other side, while it has not persisted long enough yet
        ("candidate_since", np.nan),
        ("inside_since", np.nan),  # start of the current stay inside (trigger inside)
        ("fired", 0.0),  # the current stay fired (trigger inside)
        ("last_fired", -np.inf),
    )

    def __init__(self, spec: GeofenceSpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.area = shapely.union_all(
            [shapely.Polygon([(lon, lat) for lat, lon in poly]) for poly in spec.polygons]
        )
        shapely.prepare(self.area)
        self._geo = np.zeros((0, 2))  # this frame's positions of the view's rows
        self._started = np.zeros(0)  # this frame's event start times

    def geometry_px(self) -> np.ndarray:
        """Nothing to draw on the frame: the fence lives on the map."""
        return np.zeros((0, 2))

    def contains(self, geo: np.ndarray) -> np.ndarray:
        """(N,) bool: [lat, lon] rows strictly inside any of the polygons."""
        if len(geo) == 0:
            return np.zeros(0, dtype=bool)
        return np.asarray(shapely.contains_xy(self.area, geo[:, 1], geo[:, 0]), dtype=bool)

    def update(
        self, tracks: Detections, t: float, ground: GroundFn | None = None
    ) -> list[RuleEvent]:
        if self._own_table is None:
            self._own_table = TrackTable(self.spec.forget_after_s)
        sel, points = self.select(tracks)
        geo = np.zeros((0, 2))
        if ground is None:
            sel, points = sel[:0], points[:0]
        elif len(sel):
            geo = np.asarray(ground(points), dtype=np.float64).reshape(-1, 2)
            mapped = np.isfinite(geo).all(axis=1)
            if not mapped.all():
                sel, points, geo = sel[mapped], points[mapped], geo[mapped]
        self._geo = geo
        slots = self._own_table.lookup(sel.tracker_id, t)
        return self.step(FrameView(sel, points, slots, self._own_table), t)

    def transition(self, view: FrameView, rows: np.ndarray, t: float) -> np.ndarray:
        c, spec = self.c, self.spec
        firm, cand = rows[:, c["firm"]], rows[:, c["candidate"]]
        since, inside_since = rows[:, c["candidate_since"]], rows[:, c["inside_since"]]
        fired = rows[:, c["fired"]]
        inside = self.contains(self._geo)
        seen = np.where(inside, INSIDE, OUTSIDE)
        first = firm == 0  # first sighting: no crossing to report
        np.copyto(inside_since, t, where=first & inside)
        np.copyto(firm, seen, where=first)
        persist = np.where(inside, spec.min_inside_s, spec.min_outside_s)
        flip = settle_side(firm, cand, since, seen, t, persist)
        flip_in, flip_out = flip & inside, flip & ~inside
        np.copyto(inside_since, since, where=flip_in)
        np.copyto(inside_since, np.nan, where=flip_out)
        np.copyto(fired, 0.0, where=flip_out)  # leaving re-arms the inside trigger
        if spec.trigger == "enter":
            fire, started = flip_in, since.copy()
        elif spec.trigger == "exit":
            fire, started = flip_out, since.copy()
        else:
            fire = inside & ((firm == INSIDE) | flip_in)
            fire &= (fired == 0) & (t - inside_since >= spec.min_inside_s - _EPS)
            started = inside_since.copy()
        np.copyto(firm, seen, where=flip)
        np.copyto(cand, 0.0, where=flip)
        np.copyto(since, np.nan, where=flip)
        fire &= self.cooled(rows, t)
        np.copyto(fired, 1.0, where=fire)
        np.copyto(rows[:, c["last_fired"]], t, where=fire)
        self._started = started
        return fire

    def event_for(self, view: FrameView, rows: np.ndarray, i: int, t: float) -> RuleEvent:
        lat, lon = (float(v) for v in self._geo[i])
        return self.make_event(
            t,
            started_at=float(self._started[i]),
            track_id=int(view.tracks.tracker_id[i]),
            objects=(event_object(view.tracks, i, view.points[i]),),
            evidence={"trigger": self.spec.trigger, "lat": round(lat, 7), "lon": round(lon, 7)},
        )
