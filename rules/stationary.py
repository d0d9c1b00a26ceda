"""Stationary / illegal parking: an object stays put inside a zone for `min_stationary_s`.

Per track a "stay": when it began and the running mean of the anchor during it. The stay goes
on while the anchor is inside the zone and within `tolerance_radius` of that mean (box jitter of
a parked car), and while the track is unseen (a passing truck hides it) until `forget_after_s`.
Moving further, or leaving the zone, ends it. Each stay fires once, however long the car stays;
a new stay of the same track fires again only once `cooldown_s` has passed since its last event.
The mean, not the first position, is the reference, so one bad first box does not end the stay,
while an object creeping steadily away still leaves the radius (the mean lags behind it).
"""

from __future__ import annotations

import numpy as np

from rules.common import VectorRule, event_object
from rules.config import StationarySpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels
from rules.slots import FrameView

_EPS = 1e-9


class Stationary(VectorRule):
    kind = "stationary"
    spec: StationarySpec
    columns = (
        ("since", np.nan),  # NaN: not in a stay
        ("sum_x", 0.0),
        ("sum_y", 0.0),
        ("n", 0.0),
        ("fired", 0.0),
        ("last_fired", -np.inf),
    )

    def __init__(self, spec: StationarySpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.zone = PolygonZone(to_pixels(spec.polygon, self.frame_size))
        self.radius_px = spec.tolerance_radius * self.frame_size[0]

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polygon vertices in pixels."""
        return self.zone.vertices.copy()

    def transition(self, view: FrameView, rows: np.ndarray, t: float) -> np.ndarray:
        c, points = self.c, view.points
        since, fired = rows[:, c["since"]], rows[:, c["fired"]]
        sx, sy, n = rows[:, c["sum_x"]], rows[:, c["sum_y"]], rows[:, c["n"]]
        inside = self.zone.contains(points)
        with np.errstate(invalid="ignore", divide="ignore"):  # n = 0: no stay, NaN distance
            moved = np.hypot(points[:, 0] - sx / n, points[:, 1] - sy / n) > self.radius_px
        new_stay = inside & (np.isnan(since) | moved)
        keep = inside & ~new_stay
        np.copyto(since, np.where(inside, t, np.nan), where=~keep)
        np.copyto(fired, 0.0, where=~keep)
        np.copyto(n, 0.0, where=~keep)
        np.copyto(sx, 0.0, where=~keep)
        np.copyto(sy, 0.0, where=~keep)
        sx += np.where(inside, points[:, 0], 0.0)
        sy += np.where(inside, points[:, 1], 0.0)
        n += inside
        fire = inside & (fired == 0) & (t - since >= self.spec.min_stationary_s - _EPS)
        fire &= self.cooled(rows, t)
        np.copyto(fired, 1.0, where=fire)
        np.copyto(rows[:, c["last_fired"]], t, where=fire)
        return fire

    def event_for(self, view: FrameView, rows: np.ndarray, i: int, t: float) -> RuleEvent:
        since = float(rows[i, self.c["since"]])
        return self.make_event(
            t,
            started_at=since,
            track_id=int(view.tracks.tracker_id[i]),
            objects=(event_object(view.tracks, i, view.points[i]),),
            evidence={"stationary_s": round(t - since, 3)},
        )
