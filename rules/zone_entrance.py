"""Zone entrance: a track seen outside a polygon is then seen inside -> one event per crossing.

Hysteresis is in time: per track the rule keeps the *firm* side (inside or outside) and a
candidate side with the time it was first seen there. The firm side flips only once the anchor
has been on the other side for `min_persist_s`, so a box flickering on the outline never counts
twice or backwards. A track's first sighting sets its firm side without an event: a track that
appears inside the zone (born there, or re-numbered by the tracker) was not seen entering.
Being unseen (occlusion) keeps the state until `forget_after_s`. `zone_exit` is the same
machine firing on the other flip (rules/zone_exit.py).
"""

from __future__ import annotations

import numpy as np

from rules.common import VectorRule, event_object, settle_side
from rules.config import ZoneEntranceSpec, ZoneExitSpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels
from rules.slots import FrameView

INSIDE, OUTSIDE = 1.0, -1.0


class ZoneTransition(VectorRule):
    """Shared machine of zone_entrance and zone_exit; `fires_on` is the side flipped to."""

    fires_on = INSIDE
    columns = (
        ("firm", 0.0),  # +1 inside, -1 outside, 0 never seen
        ("candidate", 0.0),  # the other side, while it has not persisted long enough yet
        ("candidate_since", np.nan),
        ("last_fired", -np.inf),
    )
    spec: ZoneEntranceSpec | ZoneExitSpec

    def __init__(self, spec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.zone = PolygonZone(to_pixels(spec.polygon, self.frame_size))
        self._since = np.zeros(0)  # this frame's crossing start times, for the events

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polygon vertices in pixels."""
        return self.zone.vertices.copy()

    def transition(self, view: FrameView, rows: np.ndarray, t: float) -> np.ndarray:
        c = self.c
        firm, cand = rows[:, c["firm"]], rows[:, c["candidate"]]
        since = rows[:, c["candidate_since"]]
        seen = np.where(self.zone.contains(view.points), INSIDE, OUTSIDE)
        np.copyto(firm, seen, where=firm == 0)  # first sighting: no crossing to report
        flip = settle_side(firm, cand, since, seen, t, self.spec.min_persist_s)
        self._since = since.copy()
        np.copyto(firm, seen, where=flip)
        np.copyto(cand, 0.0, where=flip)
        np.copyto(since, np.nan, where=flip)
        # A crossing during the cooldown still flips the side (it happened), it only stays quiet.
        fire = flip & (seen == self.fires_on) & self.cooled(rows, t)
        np.copyto(rows[:, c["last_fired"]], t, where=fire)
        return fire

    def event_for(self, view: FrameView, rows: np.ndarray, i: int, t: float) -> RuleEvent:
        return self.make_event(
            t,
            started_at=float(self._since[i]),
            track_id=int(view.tracks.tracker_id[i]),
            objects=(event_object(view.tracks, i, view.points[i]),),
            evidence={"direction": "in" if self.fires_on == INSIDE else "out"},
        )


class ZoneEntrance(ZoneTransition):
    kind = "zone_entrance"
    fires_on = INSIDE
