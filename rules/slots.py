"""Per-track rule state as numpy rows, so a rule updates all tracks of a frame in a few array ops.

With 200 tracks and 50 rules a frame is 10,000 (track, rule) pairs; a Python loop with a dict of
dataclasses per rule costs ~3-4 us per pair, which is slower than supervision's zones. Here:

- `TrackTable` gives every tracker id a row ("slot"), once per frame for all rules of a camera.
  A slot is freed when its track has been unseen for `forget_after_s` (the longest of the
  rules'), and its generation number goes up when it is given to a new track, so a rule never
  mistakes a new track for the old owner of the row.
- `SlotState` is one rule's state: a float64 table, one row per slot, column 0 the generation
  the row was written for, column 1 the time the track was last seen by the rule. A row counts
  only if its generation is current and the track was seen within the rule's own
  `forget_after_s`; otherwise the rule sees its defaults (a fresh track). So expiry is a
  comparison, never a sweep, and memory is bounded by the table's live slots.
- Identity hand-over (`Handover`): trackers re-number a person now and then (an occlusion, two
  people passing). When a new tracker id appears close to where a track was lost a moment ago,
  the table gives the new id the lost track's slot instead of a fresh one, so every rule that
  allows it (`RuleBase.handover`) keeps that person's state: no second event, no restarted
  timer. The slot's generation still goes up, but its `root` (the generation its chain of
  hand-overs started at) stays, and a rule reads a row written since `root` as current if all the
  chain's hand-overs are within its own limits (`SlotState.inherit`). Rules that disallow it
  see a fresh track, as before. Only unambiguous pairs are handed over: a new id with two lost
  candidates in range, or a lost track with two new ids in range, gets none (a false merge of
  two people would suppress a real event, which is worse than a repeated one); nor is a track
  lost with another track in view where it was (a group), or one lost at the picture's edge.
  If the old id comes back, it takes its slot back (`_hand_back`).
- `FrameView` is what a vectorized rule gets: the rows it selected, their anchors and slots.
  The engine builds one per (classes, min_confidence, anchor) and shares it between rules.
"""

from __future__ import annotations

from collections.abc import Collection

from dataclasses import dataclass, field

import numpy as np

from detectors.detections import Detections

GEN, SEEN = 0, 1  # columns every SlotState has


@dataclass(frozen=True)
class Handover:
    """Limits of the table's hand-over matching: gap in seconds, distance in box heights of the
    lost track. The engine uses the widest of its rules'; each rule then applies its own."""

    max_gap_s: float
    max_distance: float
    # A box less than half or more than twice the lost one's height is someone else (or a
    # detection of part of a person), whatever the distance.
    max_height_ratio: float = 2.0


class TrackTable:
    """Tracker id -> slot, shared by all vectorized rules of one camera."""

    def __init__(self, forget_after_s: float, capacity: int = 256, handover: Handover | None = None):
        self.forget_after_s = float(forget_after_s)
        self.handover = handover
        self.ids = np.full(capacity, -1, dtype=np.int64)
        self.gen = np.zeros(capacity, dtype=np.float64)  # float: compared with SlotState col 0
        self.root = np.zeros(capacity, dtype=np.float64)  # gen at which the hand-over chain began
        self.ho_gap = np.zeros(capacity)  # longest gap of the chain's hand-overs, s
        self.ho_dist = np.zeros(capacity)  # farthest of them, lost box heights
        self.last_seen = np.full(capacity, -np.inf)
        # Last box of each slot's track (centre, height, class) and its velocity, for matching.
        self.centre = np.zeros((capacity, 2))
        self.velocity = np.zeros((capacity, 2))
        self.height = np.ones(capacity)
        self.cls = np.full(capacity, -1, dtype=np.int64)
        self.box = np.zeros((capacity, 4))
        self.frame_size: tuple[int, int] | None = None  # (w, h): set by the engine each frame
        self._slot_of: dict[int, int] = {}
        self._t = -np.inf
        self.handovers = 0  # count, for logs and tests
        # old tracker id -> (slot, the id it went to, when), while the old id may come back.
        self._handed: dict[int, tuple[int, int, float]] = {}

    @property
    def capacity(self) -> int:
        return len(self.ids)

    def lookup(
        self,
        track_ids: np.ndarray,
        t: float,
        boxes: np.ndarray | None = None,
        classes: np.ndarray | None = None,
        newcomers: Collection[int] = (),
    ) -> np.ndarray:
        """(N,) int64 slots of these tracker ids at frame time t, allocating new ones.

        With `boxes` ((N, 4) xyxy) and `classes` the table remembers where each track was and
        hands a lost track's slot to a new id that appears where it went (see module doc).
        `newcomers` are new ids the tracker knows to be somebody else (a track somebody untracked
        took over, split off by detectors.swaps): never a lost track's continuation."""
        self._t = t
        get = self._slot_of.get
        slots = np.fromiter((get(k, -1) for k in track_ids.tolist()), np.int64, len(track_ids))
        missing = np.flatnonzero(slots < 0)
        if self._handed and len(missing):
            missing = self._hand_back(track_ids, slots, missing, t)
        if boxes is None:
            if len(missing):
                slots[missing] = self._allocate(track_ids[missing], t)
            self.last_seen[slots] = t
            return slots
        boxes = np.asarray(boxes, dtype=np.float64)
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
        known = np.flatnonzero(slots >= 0)
        if len(known):  # velocity of tracks seen before: smoothed, box jitter is noisy
            ks = slots[known]
            dt = t - self.last_seen[ks]
            ok = dt > 0
            v = (centre[known] - self.centre[ks]) / np.where(ok, dt, 1.0)[:, None]
            self.velocity[ks] = np.where(ok[:, None], 0.5 * self.velocity[ks] + 0.5 * v, self.velocity[ks])
            self.last_seen[ks] = t  # before matching: a track seen now is not lost
        if len(missing):
            cls = np.full(len(track_ids), -1, np.int64) if classes is None else np.asarray(classes)
            taken = np.full(len(missing), -1, np.int64)
            may = np.array([int(i) not in newcomers for i in track_ids[missing]], dtype=bool)
            if may.any():
                m = missing[may]
                taken[may] = self._hand_over(track_ids[m], centre[m], height[m], cls[m], centre[known], t)
            slots[missing] = taken
            fresh = missing[taken < 0]
            if len(fresh):
                new = self._allocate(track_ids[fresh], t)
                slots[fresh] = new
                self.velocity[new] = 0.0
            self.cls[slots[missing]] = cls[missing]
        self.centre[slots] = centre
        self.height[slots] = height
        self.box[slots] = boxes
        self.last_seen[slots] = t
        return slots

    def _hand_back(
        self, track_ids: np.ndarray, slots: np.ndarray, missing: np.ndarray, t: float
    ) -> np.ndarray:
        """An id whose state was handed over comes back: the hand-over was a mistake (the
        tracker found the person again, or the new id was someone else). The old id takes its
        slot back, so it neither fires again nor restarts a timer; if the id it went to is in
        view too, that one is another person and starts afresh. Returns the ids still missing."""
        keep = max(self.forget_after_s, self.handover.max_gap_s if self.handover else 0.0)
        self._handed = {k: v for k, v in self._handed.items() if t - v[2] <= keep}
        back = [k for k in missing.tolist() if int(track_ids[k]) in self._handed]
        for k in back:
            old = int(track_ids[k])
            slot, succ, _ = self._handed.pop(old)
            if self.ids[slot] != succ:  # the slot moved on (freed, or handed over again)
                continue
            self._slot_of.pop(succ, None)
            self.ids[slot] = old
            self._slot_of[old] = slot
            self.gen[slot] += 1
            slots[k] = slot
            slots[track_ids == succ] = -1  # in view as well: a new track (allocated below)
        return np.flatnonzero(slots < 0)

    def _hand_over(
        self,
        new_ids: np.ndarray,
        centre: np.ndarray,
        height: np.ndarray,
        cls: np.ndarray,
        visible: np.ndarray,
        t: float,
    ) -> np.ndarray:
        """(M,) slot each new id takes over from a lost track, or -1 (see module doc).
        `visible` (K, 2) are the box centres of the tracks seen before and now."""
        out = np.full(len(new_ids), -1, dtype=np.int64)
        h = self.handover
        if h is None:
            return out
        lost = (self.ids >= 0) & (self.last_seen < t) & (t - self.last_seen <= h.max_gap_s)
        if self.frame_size is not None and lost.any():
            # A track lost at the edge of the picture, or heading out of it by its last
            # velocity, most likely walked out, and a new id there most likely walked in:
            # someone else (PETS09: a person leaving on the right as another one entered there
            # 1.1 s later; another one lost 30 px short of the edge, walking out).
            w, hgt = self.frame_size
            m = max(4.0, 0.01 * max(w, hgt))
            lost = np.flatnonzero(lost)
            box = self.box[lost]
            shifted = box + np.tile(self.velocity[lost] * (t - self.last_seen[lost])[:, None], 2)
            inside = np.ones(len(lost), dtype=bool)
            for bx in (box, shifted):
                inside &= (bx[:, 0] > m) & (bx[:, 1] > m) & (bx[:, 2] < w - m) & (bx[:, 3] < hgt - m)
            lost = lost[inside]
        else:
            lost = np.flatnonzero(lost)
        if not len(lost):
            return out
        gap = t - self.last_seen[lost]  # (L,)
        last = self.centre[lost]
        ahead = last + self.velocity[lost] * gap[:, None]
        d_last = np.linalg.norm(centre[:, None, :] - last[None], axis=2)  # (M, L)
        d_ahead = np.linalg.norm(centre[:, None, :] - ahead[None], axis=2)
        # Either where it was (it stopped behind something) or where it was heading.
        dist = np.minimum(d_last, d_ahead) / self.height[lost][None, :]
        ratio = height[:, None] / self.height[lost][None, :]
        near = (
            (dist <= h.max_distance)
            & (cls[:, None] == self.cls[lost][None, :])
            & (ratio <= h.max_height_ratio)
            & (ratio >= 1.0 / h.max_height_ratio)
        )
        # Unambiguous pairs only: one candidate each way (which also makes them one-to-one),
        # and no other track in view where the lost one was (in a group, the lost person may be
        # behind that one, and the new id someone else of the group: seen on PETS09).
        crowded = np.zeros(len(lost), dtype=bool)
        if len(visible):
            dv = np.minimum(
                np.linalg.norm(visible[:, None, :] - last[None], axis=2),
                np.linalg.norm(visible[:, None, :] - ahead[None], axis=2),
            ) / self.height[lost][None, :]
            crowded = (dv <= h.max_distance).any(axis=0)
        near &= ~crowded[None, :]
        sure = near & (near.sum(axis=1, keepdims=True) == 1) & (near.sum(axis=0, keepdims=True) == 1)
        for m, j in zip(*np.nonzero(sure)):
            slot = int(lost[j])
            old_id = int(self.ids[slot])
            self._slot_of.pop(old_id, None)
            new_id = int(new_ids[m])
            self.ids[slot] = new_id
            self._slot_of[new_id] = slot
            self._handed[old_id] = (slot, new_id, t)
            self.gen[slot] += 1  # rules without hand-over see a new track; root stays
            self.ho_gap[slot] = max(self.ho_gap[slot], float(gap[j]))
            self.ho_dist[slot] = max(self.ho_dist[slot], float(dist[m, j]))
            out[m] = slot
            self.handovers += 1
        return out

    def _allocate(self, new_ids: np.ndarray, t: float) -> np.ndarray:
        # A lost track stays a hand-over candidate for max_gap_s even if rules forget sooner,
        # so the candidates (and hence the decisions) do not depend on the rules' memory.
        keep = max(self.forget_after_s, self.handover.max_gap_s if self.handover else 0.0)
        free = np.flatnonzero((self.ids < 0) | (t - self.last_seen > keep))
        if len(free) < len(new_ids):
            self._grow(len(new_ids) - len(free))
            free = np.flatnonzero((self.ids < 0) | (t - self.last_seen > keep))
        slots = free[: len(new_ids)]
        for old in self.ids[slots].tolist():
            if old >= 0:
                self._slot_of.pop(old, None)
        self.ids[slots] = new_ids
        self.gen[slots] += 1
        self.root[slots] = self.gen[slots]
        self.ho_gap[slots] = 0.0
        self.ho_dist[slots] = 0.0
        self._slot_of.update(zip(new_ids.tolist(), slots.tolist()))
        return slots

    def _grow(self, at_least: int) -> None:
        extra = max(at_least, self.capacity)
        self.ids = np.concatenate([self.ids, np.full(extra, -1, dtype=np.int64)])
        self.gen = np.concatenate([self.gen, np.zeros(extra)])
        self.root = np.concatenate([self.root, np.zeros(extra)])
        self.ho_gap = np.concatenate([self.ho_gap, np.zeros(extra)])
        self.ho_dist = np.concatenate([self.ho_dist, np.zeros(extra)])
        self.last_seen = np.concatenate([self.last_seen, np.full(extra, -np.inf)])
        self.centre = np.concatenate([self.centre, np.zeros((extra, 2))])
        self.velocity = np.concatenate([self.velocity, np.zeros((extra, 2))])
        self.height = np.concatenate([self.height, np.ones(extra)])
        self.cls = np.concatenate([self.cls, np.full(extra, -1, dtype=np.int64)])
        self.box = np.concatenate([self.box, np.zeros((extra, 4))])

    def live(self) -> int:
        """Slots held by tracks seen within forget_after_s of the last frame."""
        return int(((self.ids >= 0) & (self._t - self.last_seen <= self.forget_after_s)).sum())


class SlotState:
    """One rule's per-track state: float64 columns `names` after GEN and SEEN."""

    def __init__(
        self,
        names: list[str],
        defaults: list[float],
        forget_after_s: float,
        inherit: Handover | None = None,
    ):
        self.col = {name: 2 + i for i, name in enumerate(names)}
        self.defaults = np.array([-1.0, -np.inf, *defaults], dtype=np.float64)
        self.forget_after_s = float(forget_after_s)
        # The rule's own hand-over limits (None: a new id is always a new track). -1 never
        # passes, as the table's chain figures are >= 0.
        self.inherit = inherit
        self.inherit_gap = -1.0 if inherit is None else inherit.max_gap_s
        self.inherit_dist = -1.0 if inherit is None else inherit.max_distance
        self.data = np.tile(self.defaults, (0, 1))

    def gather(self, view: "FrameView", t: float) -> np.ndarray:
        """(N, C) copy of the rows of the view's slots; stale or foreign rows are defaults."""
        if len(self.data) < view.table.capacity:
            grow = np.tile(self.defaults, (view.table.capacity - len(self.data), 1))
            self.data = np.concatenate([self.data, grow])
        rows = np.take(self.data, view.slots, axis=0)
        stale = rows[:, GEN] != view.gen
        if stale.any():
            stale &= ~_inherited(rows[:, GEN], view, self.inherit_gap, self.inherit_dist)
        stale |= t - rows[:, SEEN] > self.forget_after_s
        if stale.any():
            rows[stale] = self.defaults
        return rows

    def scatter(self, view: "FrameView", rows: np.ndarray, t: float) -> None:
        """Write rows back, stamped with the slot's generation and `t` as last seen."""
        rows[:, GEN] = view.gen
        rows[:, SEEN] = t
        self.data[view.slots] = rows

    def size(self, table: TrackTable, t: float) -> int:
        n = min(len(self.data), table.capacity)
        d = self.data[:n]
        return int(((d[:, GEN] == table.gen[:n]) & (t - d[:, SEEN] <= self.forget_after_s)).sum())


class StateBatch:
    """The SlotStates of R rules stepped together, kept as one (R, capacity, C) array.

    Each member's `SlotState.data` becomes a view of its layer, so the rule still owns its state
    (hot reload keeps it, `size` counts it) while a frame gathers and writes back all R rules
    with one operation each. The engine keeps a batch while its members stay the same.
    """

    def __init__(self, states: list[SlotState]):
        self.states = states
        self.defaults = states[0].defaults
        self.forget = np.array([s.forget_after_s for s in states])[:, None]  # (R, 1)
        self.inherit_gap = np.array([s.inherit_gap for s in states])[:, None]
        self.inherit_dist = np.array([s.inherit_dist for s in states])[:, None]
        self._adopt(max(len(s.data) for s in states))

    def _adopt(self, capacity: int) -> None:
        """(Re)allocate the batch array, copying each member's rows in and pointing it there."""
        data = np.tile(self.defaults, (len(self.states), capacity, 1))
        for r, state in enumerate(self.states):
            data[r, : len(state.data)] = state.data
            state.data = data[r]
        self.data = data

    def gather(self, view: "FrameView", t: float) -> np.ndarray:
        """(R, N, C) copy of the members' rows of the view's slots; stale rows are defaults."""
        if self.data.shape[1] < view.table.capacity:
            self._adopt(view.table.capacity)
        rows = np.take(self.data, view.slots, axis=1)
        stale = rows[..., GEN] != view.gen
        if stale.any():  # new ids only, a few rows a frame
            stale &= ~_inherited(rows[..., GEN], view, self.inherit_gap, self.inherit_dist)
        stale |= t - rows[..., SEEN] > self.forget
        if stale.any():
            rows[stale] = self.defaults
        return rows

    def scatter(self, view: "FrameView", rows: np.ndarray, t: float) -> None:
        rows[..., GEN] = view.gen
        rows[..., SEEN] = t
        self.data[:, view.slots] = rows


def _inherited(row_gen: np.ndarray, view: "FrameView", gap, dist) -> np.ndarray:
    """Rows written for an earlier owner of the slot that the current one took over by
    hand-over(s) within the rule's limits `gap` and `dist` (scalars or (R, 1))."""
    table, slots = view.table, view.slots
    return (
        (row_gen >= np.take(table.root, slots))
        & (np.take(table.ho_gap, slots) <= gap)
        & (np.take(table.ho_dist, slots) <= dist)
    )


@dataclass(frozen=True)
class FrameView:
    """The rows of one frame a rule looks at: selected tracks, anchors (N, 2) float64, slots,
    and the slots' generations (looked up once here for every rule sharing the view)."""

    tracks: Detections
    points: np.ndarray
    slots: np.ndarray
    table: TrackTable
    gen: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.gen is None:
            object.__setattr__(self, "gen", np.take(self.table.gen, self.slots))
