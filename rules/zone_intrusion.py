"""Zone intrusion: a track's anchor stays inside a polygon for `min_inside_s` -> one event.

Per track the rule keeps a "stint": when the anchor entered and when it was last inside. Being
seen outside for at most `exit_grace_s` continues the stint, and so does being unseen (occluded,
missed, or filtered out by confidence) while the track's state lives (`forget_after_s`), so a
box flickering across the edge or a detector missing a frame neither delays nor repeats the
alert. A stint fires at most once; the track re-arms when it leaves for longer than
the grace period, and a re-entry fires again only once `cooldown_s` has passed since the last
event of that track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.detections import Detections
from rules.common import RuleRuntime, TrackState, cooldown_ready, event_object
from rules.config import ZoneIntrusionSpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels


@dataclass
class _Stint(TrackState):
    entered_at: float | None = None  # None: not in a stint
    last_inside: float = float("-inf")
    fired: bool = False  # this stint already produced its event
    inside_last: bool = False  # at the track's previous observation


class ZoneIntrusion(RuleRuntime):
    kind = "zone_intrusion"
    spec: ZoneIntrusionSpec

    def __init__(self, spec: ZoneIntrusionSpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.zone = PolygonZone(to_pixels(spec.polygon, self.frame_size))

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polygon vertices in pixels."""
        return self.zone.vertices.copy()

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        sel, points = self.select(tracks)
        inside = self.zone.contains(points)
        spec = self.spec
        events: list[RuleEvent] = []
        for i in range(len(sel)):
            tid = int(sel.tracker_id[i])
            st = self.states.get(tid) or self.states.put(tid, _Stint(last_seen=t))
            st.last_seen = t
            # The grace period is measured over frames *seen outside*: consecutive inside frames
            # never break a stint (even with grace 0), and an occlusion alone does not either.
            out_too_long = not st.inside_last and t - st.last_inside > spec.exit_grace_s
            st.inside_last = bool(inside[i])
            if not inside[i]:
                if out_too_long:
                    st.entered_at = None
                continue
            if st.entered_at is None or out_too_long:
                st.entered_at, st.fired = t, False  # a new stint: re-armed
            st.last_inside = t
            dwell = t - st.entered_at
            if (
                not st.fired
                and dwell >= spec.min_inside_s - 1e-9  # float frame times
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
