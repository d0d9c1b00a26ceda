"""Fast moving / running: a track's speed stays at or above `min_speed` -> one event per episode.

Speed is the anchor's displacement over a sliding window of `window_s` seconds divided by the
time it took, in pixels/s of the analysed frame, or in metres/s on the ground when the spec has a
`homography` (normalised image point -> ground metres). A single jittery box therefore does not
look like a sprint, and a measure over less than half the window (a track just born, or back
from an occlusion) does not count.

Per track a small ring of past positions is kept in the rule's `rules.slots` rows: a sample is
stored at most every window_s / 12, so 16 samples always cover the window at any frame rate. An
episode starts when the speed reaches `min_speed`, fires once it has lasted `min_duration_s`
(hysteresis), and ends (re-arming the track) on the first frame measured slower or outside the
optional zone. A new episode of the same track fires only once `cooldown_s` has passed.
"""

from __future__ import annotations

import numpy as np

from rules.common import VectorRule, event_object
from rules.config import FastMovingSpec
from rules.events import RuleEvent
from rules.geometry import PolygonZone, to_pixels
from rules.slots import FrameView

_EPS = 1e-9
_SAMPLES = 16  # ring size
_PER_WINDOW = 12  # samples stored per window: the ring covers 16/12 of it


class FastMoving(VectorRule):
    kind = "fast_moving"
    spec: FastMovingSpec
    columns = (
        ("fast_since", np.nan),  # NaN: not in an episode
        ("fired", 0.0),
        ("last_fired", -np.inf),
        ("head", 0.0),  # next ring position to write
        ("last_sample", -np.inf),
        *((f"t{k}", np.nan) for k in range(_SAMPLES)),
        *((f"x{k}", 0.0) for k in range(_SAMPLES)),
        *((f"y{k}", 0.0) for k in range(_SAMPLES)),
    )

    def __init__(self, spec: FastMovingSpec, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        self.zone = (
            PolygonZone(to_pixels(spec.polygon, self.frame_size)) if spec.polygon else None
        )
        self.homography = (
            None if spec.homography is None else np.asarray(spec.homography, dtype=np.float64)
        )
        first = self.c["t0"]
        self._ts = slice(first, first + _SAMPLES)
        self._xs = slice(first + _SAMPLES, first + 2 * _SAMPLES)
        self._ys = slice(first + 2 * _SAMPLES, first + 3 * _SAMPLES)
        self._speed = np.zeros(0)  # this frame's speeds, for the events

    def geometry_px(self) -> np.ndarray:
        """(K, 2) zone vertices in pixels; empty without a zone."""
        return np.zeros((0, 2)) if self.zone is None else self.zone.vertices.copy()

    def ground(self, points_px: np.ndarray) -> np.ndarray:
        """(N, 2) positions speed is measured in: pixels, or ground metres with a homography."""
        if self.homography is None:
            return points_px
        w, h = self.frame_size
        norm = np.column_stack([points_px[:, 0] / w, points_px[:, 1] / h, np.ones(len(points_px))])
        g = norm @ self.homography.T
        return g[:, :2] / g[:, 2:3]

    def transition(self, view: FrameView, rows: np.ndarray, t: float) -> np.ndarray:
        c, spec = self.c, self.spec
        n = len(rows)
        pos = self.ground(view.points)
        times = rows[:, self._ts]
        # Oldest stored sample within the window (NaN and older ones are out of it).
        in_window = np.where(times >= t - spec.window_s, times, np.inf)
        j = np.argmin(in_window, axis=1)
        t0 = in_window[np.arange(n), j]
        span = t - t0  # inf where no sample is in the window
        measured = span >= spec.window_s / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            dist = np.hypot(pos[:, 0] - rows[np.arange(n), self._xs.start + j],
                            pos[:, 1] - rows[np.arange(n), self._ys.start + j])
            self._speed = np.where(measured & np.isfinite(span), dist / span, 0.0)
        fast = self._speed >= spec.min_speed
        if self.zone is not None:
            fast &= self.zone.contains(view.points)
        since, fired = rows[:, c["fast_since"]], rows[:, c["fired"]]
        np.copyto(since, np.nan, where=~fast)  # the episode ends: re-armed
        np.copyto(fired, 0.0, where=~fast)
        np.copyto(since, t, where=fast & np.isnan(since))
        fire = fast & (fired == 0) & (t - since >= spec.min_duration_s - _EPS)
        fire &= self.cooled(rows, t)
        np.copyto(fired, 1.0, where=fire)
        np.copyto(rows[:, c["last_fired"]], t, where=fire)
        self._store(rows, pos, t)
        return fire

    def _store(self, rows: np.ndarray, pos: np.ndarray, t: float) -> None:
        """Put this frame's position in the ring of rows due for a sample."""
        c = self.c
        due = np.flatnonzero(t - rows[:, c["last_sample"]] >= self.spec.window_s / _PER_WINDOW)
        if not len(due):
            return
        head = rows[due, c["head"]].astype(np.intp)
        rows[due, self._ts.start + head] = t
        rows[due, self._xs.start + head] = pos[due, 0]
        rows[due, self._ys.start + head] = pos[due, 1]
        rows[due, c["head"]] = (head + 1) % _SAMPLES
        rows[due, c["last_sample"]] = t

    def event_for(self, view: FrameView, rows: np.ndarray, i: int, t: float) -> RuleEvent:
        return self.make_event(
            t,
            started_at=float(rows[i, self.c["fast_since"]]),
            track_id=int(view.tracks.tracker_id[i]),
            objects=(event_object(view.tracks, i, view.points[i]),),
            evidence={"speed": round(float(self._speed[i]), 3), "unit": self.spec.unit},
        )
