"""Zone intrusion: a track's anchor stays inside a polygon for `min_inside_s` -> one event.

Per track the rule keeps a "stint": when the anchor entered and when it was last inside. Being
seen outside for at most `exit_grace_s` continues the stint, and so does being unseen (occluded,
missed, or filtered out by confidence) while the track's state lives (`forget_after_s`), so a
box flickering across the edge or a detector missing a frame neither delays nor repeats the
alert. A stint fires at most once; the track re-arms when it leaves for longer than
the grace period, and a re-entry fires again only once `cooldown_s` has passed since the last
event of that track.

The state machine runs on all tracks of a frame at once (see `rules.slots`): per track a row of
entry time (NaN: not in a stint), last time seen inside, whether it was inside at its previous
observation, whether this stint fired, and when the track last fired.
"""

from __future__ import annotations

import numpy as np

from rules.common import VectorRule, event_object, spec_column
from rules.config import ZoneIntrusionSpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels
from rules.slots import FrameView

_EPS = 1e-9  # float frame times: a dwell of 0.9999999 s counts as 1 s


class ZoneIntrusion(VectorRule):
    kind = "zone_intrusion"
    spec: ZoneIntrusionSpec
    columns = (
        ("entered", np.nan),
        ("last_inside", -np.inf),
        ("inside_last", 0.0),
        ("fired", 0.0),
        ("last_fired", -np.inf),
    )

    def __init__(self, spec: ZoneIntrusionSpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.zone = PolygonZone(to_pixels(spec.polygon, self.frame_size))

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polygon vertices in pixels."""
        return self.zone.vertices.copy()

    @classmethod
    def transition_batch(
        cls, rules: list["ZoneIntrusion"], view: FrameView, rows: np.ndarray, t: float
    ) -> np.ndarray:
        c = rules[0].c
        inside = np.stack([rule.zone.contains(view.points) for rule in rules])  # (R, N)
        # Column views of `rows` (R, N): writing them writes the state. np.copyto does masked
        # writes without fancy indexing, the cheapest form for a few hundred rows.
        entered, fired = rows[..., c["entered"]], rows[..., c["fired"]]
        inside_last, last_inside = rows[..., c["inside_last"]], rows[..., c["last_inside"]]
        # The grace period is measured over frames *seen outside*: consecutive inside frames
        # never break a stint (even with grace 0), and an occlusion alone does not either.
        out_too_long = t - last_inside > spec_column(rules, "exit_grace_s")
        out_too_long &= inside_last == 0
        np.copyto(entered, np.nan, where=out_too_long)
        restart = inside & np.isnan(entered)  # a new stint: re-armed
        np.copyto(entered, t, where=restart)
        np.copyto(fired, 0.0, where=restart)
        inside_last[...] = inside
        np.copyto(last_inside, t, where=inside)
        # NaN entry times (not in a stint) compare False.
        fire = t - entered >= spec_column(rules, "min_inside_s") - _EPS
        fire &= inside
        fire &= fired == 0
        fire &= t - rows[..., c["last_fired"]] >= spec_column(rules, "cooldown_s")
        np.copyto(fired, 1.0, where=fire)
        np.copyto(rows[..., c["last_fired"]], t, where=fire)
        return fire

    def event_for(self, view: FrameView, rows: np.ndarray, i: int, t: float) -> RuleEvent:
        entered = float(rows[i, self.c["entered"]])
        return self.make_event(
            t,
            started_at=entered,
            track_id=int(view.tracks.tracker_id[i]),
            objects=(event_object(view.tracks, i, view.points[i]),),
            evidence={"dwell_s": round(t - entered, 3)},
        )
