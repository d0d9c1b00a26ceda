"""Tripwire: a track's anchor crosses a (poly)line from one side to the other -> one event.

Direction: side A is the left-hand side of someone walking along the line from its first point
to its last, looking at the image as displayed (x right, y down); "a_to_b" is a crossing from A
to B. For a line drawn left to right A is above it; for a line drawn top to bottom A is on the
right. See docs/rules.md for a picture.

Hysteresis: per (track, segment) the rule remembers the last *firm* side, where the anchor was at
least `min_offset_px` beyond the segment's line, and the anchor position there. Positions inside
that band change nothing, so a box jittering on the line can neither count twice nor count
backwards. A crossing is a change of firm side whose straight step, from the last firm point to
the current one, meets the line within the segment's extent; a change of side that happened
beyond the segment's ends (walking around the fence) only updates the remembered side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detectors.detections import Detections
from rules.common import RuleRuntime, TrackState, cooldown_ready, event_object
from rules.config import TripwireSpec
from rules.events import RuleEvent
from rules.geometry import crossing_positions, segments, signed_distances, to_pixels

# Half a pixel of slack at segment ends, so a step through a polyline vertex is not missed by
# both adjoining segments because of rounding (one event per track and frame is emitted anyway).
_END_SLACK_PX = 0.5


@dataclass
class _Sides(TrackState):
    side: np.ndarray = field(default=None)  # (M,) int8: +1 A, -1 B, 0 never firm yet
    point: np.ndarray = field(default=None)  # (M, 2) anchor where that side was last firm


class Tripwire(RuleRuntime):
    kind = "tripwire"
    spec: TripwireSpec

    def __init__(self, spec: TripwireSpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.polyline = to_pixels(spec.line, self.frame_size)
        a, b = segments(self.polyline)
        self._n_segments = len(a)
        self._slack_u = _END_SLACK_PX / np.hypot(*(b - a).T)  # (M,) in units of u

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polyline points in pixels, first to last."""
        return self.polyline.copy()

    def _previous(self, track_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gather remembered sides/points of this frame's tracks into (N, M) / (N, M, 2)."""
        n, m = len(track_ids), self._n_segments
        side = np.zeros((n, m), dtype=np.int8)
        point = np.zeros((n, m, 2), dtype=np.float64)
        for i, tid in enumerate(track_ids):
            st = self.states.get(int(tid))
            if st is not None:
                side[i], point[i] = st.side, st.point
        return side, point

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        sel, points = self.select(tracks)
        events: list[RuleEvent] = []
        if len(sel):
            events = self._step(sel, points, t)
        self.states.expire(t)
        return events

    def _step(self, sel: Detections, points: np.ndarray, t: float) -> list[RuleEvent]:
        spec = self.spec
        ids = sel.tracker_id
        prev_side, prev_point = self._previous(ids)

        dist = signed_distances(points, self.polyline)  # (N, M), > 0 on side A
        firm = (np.abs(dist) >= spec.min_offset_px) & (dist != 0)
        side = np.where(firm, np.sign(dist), 0).astype(np.int8)
        changed = firm & (prev_side != 0) & (side != prev_side)
        crossed = np.zeros_like(changed)
        if changed.any():
            u = crossing_positions(prev_point, points, self.polyline)
            crossed = changed & (u >= -self._slack_u) & (u <= 1 + self._slack_u)

        events: list[RuleEvent] = []
        for i, tid in enumerate(int(x) for x in ids):
            st = self.states.get(tid)
            if st is None:
                st = self.states.put(
                    tid, _Sides(last_seen=t, side=prev_side[i].copy(), point=prev_point[i].copy())
                )
            st.last_seen = t
            st.side[firm[i]] = side[i][firm[i]]
            st.point[firm[i]] = points[i]
            if not crossed[i].any():
                continue
            m = int(np.argmax(crossed[i]))  # a step through a vertex crosses two segments: once
            direction = "a_to_b" if prev_side[i, m] > 0 else "b_to_a"
            if spec.direction not in ("both", direction):
                continue
            if not cooldown_ready(st, t, spec.cooldown_s):
                continue
            st.last_fired = t
            events.append(
                self.make_event(
                    t,
                    started_at=t,
                    track_id=tid,
                    objects=(event_object(sel, i, points[i]),),
                    evidence={"direction": direction},
                )
            )
        return events
