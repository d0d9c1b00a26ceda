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

The state is a `rules.slots` row per track: the last firm side and point of each segment and
the last firing time, so all tracks of a frame are updated with a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rules.common import VectorRule, event_object
from rules.config import TripwireSpec
from rules.events import RuleEvent
from rules.geometry import segments, to_pixels
from rules.slots import FrameView

# Half a pixel of slack at segment ends, so a step through a polyline vertex is not missed by
# both adjoining segments because of rounding (one event per track and frame is emitted anyway).
_END_SLACK_PX = 0.5


class Tripwire(VectorRule):
    kind = "tripwire"
    spec: TripwireSpec

    def __init__(self, spec: TripwireSpec, camera_id: str, frame_size: tuple[int, int]):
        m = len(spec.line) - 1
        # Per segment: side (+1 A, -1 B, 0 never firm yet) and the anchor where it was firm.
        self.columns = (
            ("last_fired", -np.inf),
            *((f"side{k}", 0.0) for k in range(m)),
            *((f"x{k}", 0.0) for k in range(m)),
            *((f"y{k}", 0.0) for k in range(m)),
        )
        super().__init__(spec, camera_id, frame_size)
        self.polyline = to_pixels(spec.line, self.frame_size)
        a, b = segments(self.polyline)
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        self._n_segments = m
        self._slack_u = _END_SLACK_PX / length  # (M,) in units of u
        # Per-segment constants of the hot path (see _Constants).
        self._normal = np.stack([d[:, 1], -d[:, 0]], axis=1) / length[:, None]
        self._offset = np.einsum("mk,mk->m", a, self._normal)
        self._along = d / (length**2)[:, None]
        self._start = np.einsum("mk,mk->m", a, self._along)
        # > 0, so a point exactly on the line is never firm, even with min_offset_px 0.
        self._band = max(spec.min_offset_px, np.finfo(np.float64).tiny)
        first = self.c["side0"]
        self._side = slice(first, first + m)
        self._x = slice(first + m, first + 2 * m)
        self._y = slice(first + 2 * m, first + 3 * m)
        self._a_to_b = np.zeros(0, dtype=bool)  # direction of this frame's crossings

    def geometry_px(self) -> np.ndarray:
        """(K, 2) polyline points in pixels, first to last."""
        return self.polyline.copy()

    def batch_key(self) -> tuple:
        return (*super().batch_key(), self._n_segments)

    @classmethod
    def transition_batch(
        cls, rules: list["Tripwire"], view: FrameView, rows: np.ndarray, t: float
    ) -> np.ndarray:
        r0, points = rules[0], view.points
        k = _constants(rules)
        n_rules, n, m = len(rules), len(points), r0._n_segments
        # (R, N, M) signed distance to each segment's line, > 0 on side A: one matrix product.
        dist = (k.normal.reshape(-1, 2) @ points.T).reshape(n_rules, m, n).transpose(0, 2, 1)
        dist = dist - k.offset[:, None, :]
        firm = np.abs(dist) >= k.band
        side = np.sign(dist)
        side *= firm  # +1 A, -1 B, 0 inside the band
        prev_side = rows[..., r0._side]  # a view of rows
        # A change of firm side: both sides non-zero and different, i.e. their product is -1.
        changed = side * prev_side < 0
        hr, hi = np.nonzero(changed.any(axis=2))  # (rule, row) pairs: usually a handful
        if len(hr):
            before = rows[hr, hi]  # (K, C) copies: sides, points and cooldown before this frame
            crossed = changed[hr, hi] & _within_segment(r0, k, hr, before, points[hi], dist[hr, hi])
        np.copyto(prev_side, side, where=firm)
        np.copyto(rows[..., r0._x], points[None, :, :1], where=firm)
        np.copyto(rows[..., r0._y], points[None, :, 1:2], where=firm)
        fire = np.zeros((n_rules, n), dtype=bool)
        if not len(hr) or not crossed.any():
            return fire
        # A step through a vertex crosses two segments: it is one crossing, the first one's.
        first = np.argmax(crossed, axis=1)
        a_to_b = before[np.arange(len(hr)), r0._side.start + first] > 0
        want = k.direction[hr]  # 0 both, 1 a_to_b, -1 b_to_a
        ok = crossed.any(axis=1) & ((want == 0) | (want == np.where(a_to_b, 1, -1)))
        # A crossing in a direction the rule does not watch does not start a cooldown.
        ok &= t - before[:, r0.c["last_fired"]] >= k.cooldown[hr]
        fire[hr[ok], hi[ok]] = True
        rows[hr[ok], hi[ok], r0.c["last_fired"]] = t
        direction = np.zeros((n_rules, n), dtype=bool)
        direction[hr, hi] = a_to_b
        for r, rule in enumerate(rules):
            rule._a_to_b = direction[r]
        return fire

    def event_for(self, view: FrameView, rows: np.ndarray, i: int, t: float) -> RuleEvent:
        return self.make_event(
            t,
            started_at=t,
            track_id=int(view.tracks.tracker_id[i]),
            objects=(event_object(view.tracks, i, view.points[i]),),
            evidence={"direction": "a_to_b" if self._a_to_b[i] else "b_to_a"},
        )


@dataclass(frozen=True)
class _Constants:
    """Per-segment constants of a batch of R tripwires with M segments each, stacked.

    The frame's hot path is then a few array operations for all R rules: the distance of p to
    segment m's line is p . normal[m] - offset[m] (> 0 on side A), its position along it is
    p . along[m] - start[m] (0 at its first point, 1 at its last); the maths of
    geometry.signed_distances / segment_positions with the constants folded in once.
    """

    normal: np.ndarray  # (R, M, 2)
    offset: np.ndarray  # (R, M)
    along: np.ndarray  # (R, M, 2)
    start: np.ndarray  # (R, M)
    slack: np.ndarray  # (R, M), in units of u
    band: np.ndarray  # (R, 1, 1) min_offset_px, > 0
    direction: np.ndarray  # (R,) 0 both, 1 a_to_b, -1 b_to_a
    cooldown: np.ndarray  # (R,)


_DIRECTION = {"both": 0, "a_to_b": 1, "b_to_a": -1}
_CACHE: dict[tuple[int, ...], tuple[list, _Constants]] = {}


def _constants(rules: list[Tripwire]) -> _Constants:
    """Stacked constants of this batch, cached while the batch stays the same."""
    key = tuple(id(rule) for rule in rules)
    hit = _CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], rules)):
        return hit[1]
    if len(_CACHE) > 64:  # batches change only on reloads and schedule edges
        _CACHE.clear()
    k = _Constants(
        normal=np.stack([r._normal for r in rules]),
        offset=np.stack([r._offset for r in rules]),
        along=np.stack([r._along for r in rules]),
        start=np.stack([r._start for r in rules]),
        slack=np.stack([r._slack_u for r in rules]),
        band=np.array([r._band for r in rules])[:, None, None],
        direction=np.array([_DIRECTION[r.spec.direction] for r in rules]),
        cooldown=np.array([r.spec.cooldown_s for r in rules], dtype=np.float64),
    )
    _CACHE[key] = (list(rules), k)
    return k


def _within_segment(
    r0: Tripwire,
    k: _Constants,
    hr: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    d1: np.ndarray,
) -> np.ndarray:
    """(K, M) bool: the step from each pair's last firm point to `after` meets each segment
    within its extent (plus the end slack). Unrolled products: K is a handful of pairs."""
    bx, by = before[:, r0._x], before[:, r0._y]  # (K, M)
    n, a, start = k.normal[hr], k.along[hr], k.start[hr]
    d0 = bx * n[..., 0] + by * n[..., 1] - k.offset[hr]
    u0 = bx * a[..., 0] + by * a[..., 1] - start
    u1 = after[:, :1] * a[..., 0] + after[:, 1:] * a[..., 1] - start
    with np.errstate(divide="ignore", invalid="ignore"):  # unchanged sides are masked anyway
        u = u0 + d0 / (d0 - d1) * (u1 - u0)
    return (u >= -k.slack[hr]) & (u <= 1 + k.slack[hr])
