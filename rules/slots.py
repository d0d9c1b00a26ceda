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
- `FrameView` is what a vectorized rule gets: the rows it selected, their anchors and slots.
  The engine builds one per (classes, min_confidence, anchor) and shares it between rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detectors.detections import Detections

GEN, SEEN = 0, 1  # columns every SlotState has


class TrackTable:
    """Tracker id -> slot, shared by all vectorized rules of one camera."""

    def __init__(self, forget_after_s: float, capacity: int = 256):
        self.forget_after_s = float(forget_after_s)
        self.ids = np.full(capacity, -1, dtype=np.int64)
        self.gen = np.zeros(capacity, dtype=np.float64)  # float: compared with SlotState col 0
        self.last_seen = np.full(capacity, -np.inf)
        self._slot_of: dict[int, int] = {}
        self._t = -np.inf

    @property
    def capacity(self) -> int:
        return len(self.ids)

    def lookup(self, track_ids: np.ndarray, t: float) -> np.ndarray:
        """(N,) int64 slots of these tracker ids at frame time t, allocating new ones."""
        self._t = t
        get = self._slot_of.get
        slots = np.fromiter((get(k, -1) for k in track_ids.tolist()), np.int64, len(track_ids))
        missing = np.flatnonzero(slots < 0)
        if len(missing):
            slots[missing] = self._allocate(track_ids[missing], t)
        self.last_seen[slots] = t
        return slots

    def _allocate(self, new_ids: np.ndarray, t: float) -> np.ndarray:
        free = np.flatnonzero((self.ids < 0) | (t - self.last_seen > self.forget_after_s))
        if len(free) < len(new_ids):
            self._grow(len(new_ids) - len(free))
            free = np.flatnonzero((self.ids < 0) | (t - self.last_seen > self.forget_after_s))
        slots = free[: len(new_ids)]
        for old in self.ids[slots].tolist():
            if old >= 0:
                self._slot_of.pop(old, None)
        self.ids[slots] = new_ids
        self.gen[slots] += 1
        self._slot_of.update(zip(new_ids.tolist(), slots.tolist()))
        return slots

    def _grow(self, at_least: int) -> None:
        extra = max(at_least, self.capacity)
        self.ids = np.concatenate([self.ids, np.full(extra, -1, dtype=np.int64)])
        self.gen = np.concatenate([self.gen, np.zeros(extra)])
        self.last_seen = np.concatenate([self.last_seen, np.full(extra, -np.inf)])

    def live(self) -> int:
        """Slots held by tracks seen within forget_after_s of the last frame."""
        return int(((self.ids >= 0) & (self._t - self.last_seen <= self.forget_after_s)).sum())


class SlotState:
    """One rule's per-track state: float64 columns `names` after GEN and SEEN."""

    def __init__(self, names: list[str], defaults: list[float], forget_after_s: float):
        self.col = {name: 2 + i for i, name in enumerate(names)}
        self.defaults = np.array([-1.0, -np.inf, *defaults], dtype=np.float64)
        self.forget_after_s = float(forget_after_s)
        self.data = np.tile(self.defaults, (0, 1))

    def gather(self, view: "FrameView", t: float) -> np.ndarray:
        """(N, C) copy of the rows of the view's slots; stale or foreign rows are defaults."""
        if len(self.data) < view.table.capacity:
            grow = np.tile(self.defaults, (view.table.capacity - len(self.data), 1))
            self.data = np.concatenate([self.data, grow])
        rows = np.take(self.data, view.slots, axis=0)
        stale = rows[:, GEN] != view.gen
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
        stale |= t - rows[..., SEEN] > self.forget
        if stale.any():
            rows[stale] = self.defaults
        return rows

    def scatter(self, view: "FrameView", rows: np.ndarray, t: float) -> None:
        rows[..., GEN] = view.gen
        rows[..., SEEN] = t
        self.data[:, view.slots] = rows


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
