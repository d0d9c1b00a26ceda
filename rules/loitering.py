"""Loitering: a track stays in a zone for `min_dwell_s` -> one event per stay.

The stay logic is zone_intrusion's (seen outside for at most `max_gap_s` continues it; an
occlusion between two inside sightings of the same track does too), plus a hand-over: long
dwells are exactly where trackers lose people and give them a new id after an occlusion. So when
a *new* track id appears inside the zone within `rejoin_radius` of where a track inside the zone
was last seen, at most `max_gap_s` ago, the new track continues that stay (its entry time,
whether it already fired, its cooldown) instead of starting from zero. Each stay is handed over
at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.detections import Detections
from rules.common import RuleRuntime, TrackState, cooldown_ready, event_object
from rules.config import LoiteringSpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels


@dataclass
class _Stay(TrackState):
    entered_at: float | None = None  # None: not in a stay
    last_inside: float = float("-inf")
    inside_last: bool = False
    fired: bool = False
    point: tuple[float, float] = (0.0, 0.0)  # last anchor, for the hand-over


class Loitering(RuleRuntime):
    kind = "loitering"
    spec: LoiteringSpec

    def __init__(self, spec: LoiteringSpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.zone = PolygonZone(to_pixels(spec.polygon, self.frame_size))
        self.rejoin_px = spec.rejoin_radius * self.frame_size[0]

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polygon vertices in pixels."""
        return self.zone.vertices.copy()

    def _hand_over(self, ids: np.ndarray, points: np.ndarray, inside: np.ndarray, t: float) -> None:
        """Give new ids inside the zone the stay of a nearby track that just vanished there."""
        new = [i for i in range(len(ids)) if inside[i] and int(ids[i]) not in self.states]
        if not new:
            return
        present = {int(x) for x in ids}
        lost = [
            (tid, st)
            for tid, st in self.states.items()
            if tid not in present
            and st.inside_last
            and st.entered_at is not None
            and t - st.last_seen <= self.spec.max_gap_s
        ]
        if not lost:
            return
        lost_pts = np.array([st.point for _, st in lost], dtype=np.float64)
        dist = np.linalg.norm(points[new][:, None, :] - lost_pts[None, :, :], axis=2)
        # Greedy nearest pairs first; one stay goes to one new track.
        used_rows: set[int] = set()
        used_cols: set[int] = set()
        for flat in np.argsort(dist, axis=None):
            r, c = (int(v) for v in np.unravel_index(flat, dist.shape))
            if dist[r, c] > self.rejoin_px:
                break
            if r in used_rows or c in used_cols:
                continue
            used_rows.add(r)
            used_cols.add(c)
            old_id, old = lost[c]
            self.states.pop(old_id)
            self.states.put(int(ids[new[r]]), old)

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        sel, points = self.select(tracks)
        inside = self.zone.contains(points)
        spec = self.spec
        self._hand_over(sel.tracker_id, points, inside, t)
        events: list[RuleEvent] = []
        for i in range(len(sel)):
            tid = int(sel.tracker_id[i])
            st = self.states.get(tid) or self.states.put(tid, _Stay(last_seen=t))
            st.last_seen = t
            st.point = (float(points[i, 0]), float(points[i, 1]))
            out_too_long = not st.inside_last and t - st.last_inside > spec.max_gap_s
            st.inside_last = bool(inside[i])
            if not inside[i]:
                if out_too_long:
                    st.entered_at = None
                continue
            if st.entered_at is None or out_too_long:
                st.entered_at, st.fired = t, False
            st.last_inside = t
            dwell = t - st.entered_at
            if (
                not st.fired
                and dwell >= spec.min_dwell_s - 1e-9  # float frame times
                and cooldown_ready(st, t, spec.cooldown_s)
            ):
                st.fired, st.last_fired = True, t
                events.append(
                    self.make_event(
                        t,
                        started_at=st.entered_at,
                        track_id=tid,
                        objects=(event_object(sel, i, points[i]),),
                        evidence={"dwell_s": round(dwell, 3)},
                    )
                )
        self.states.expire(t)
        return events
