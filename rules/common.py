"""What every rule kind shares: track selection, per-track state that expires, cooldown.

A rule object is a pure state machine. `RuleRuntime` holds the parts that are the same for all
kinds so each kind's module only contains its own geometry test and state transition.
`VectorRule` is the array form (per-track state as numpy rows, see rules/slots.py) that most
kinds use; `TrackStates` is the dict form that loitering (its hand-over pairs tracks) keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Iterator, TypeVar

import numpy as np

from detectors.detections import Detections
from detectors.labels import class_id, label
from rules.config import RuleBase
from rules.events import EventObject, RuleEvent
from rules.slots import FrameView, Handover, SlotState, StateBatch, TrackTable

S = TypeVar("S", bound="TrackState")


@dataclass
class TrackState:
    """Base of a kind's per-track state; `last_seen` drives expiry, `last_fired` the cooldown."""

    last_seen: float
    last_fired: float | None = None


class TrackStates(Generic[S]):
    """Per-track state keyed by tracker id, dropped once a track is unseen for `forget_after_s`.

    Without expiry a 24/7 process would keep an entry for every track it ever saw.
    """

    def __init__(self, forget_after_s: float):
        self.forget_after_s = forget_after_s
        self._by_id: dict[int, S] = {}

    def get(self, track_id: int) -> S | None:
        return self._by_id.get(track_id)

    def put(self, track_id: int, state: S) -> S:
        self._by_id[track_id] = state
        return state

    def pop(self, track_id: int) -> S | None:
        return self._by_id.pop(track_id, None)

    def expire(self, t: float) -> None:
        stale = [k for k, s in self._by_id.items() if t - s.last_seen > self.forget_after_s]
        for k in stale:
            del self._by_id[k]

    def items(self) -> Iterator[tuple[int, S]]:
        return iter(self._by_id.items())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, track_id: int) -> bool:
        return track_id in self._by_id


def settle_side(firm: np.ndarray, cand: np.ndarray, since: np.ndarray, seen: np.ndarray, t: float,
                persist: float | np.ndarray) -> np.ndarray:
    """Debounced inside/outside per track (zone entrance/exit, geofences): a track's firm side
    changes only after it has been seen on the other side for `persist` seconds. Updates the
    candidate side and since when in place; returns the rows whose firm side flips now (the
    caller writes the new side). Seen back on the firm side drops the candidate."""
    other = seen != firm
    starting = other & (cand != seen)
    np.copyto(since, t, where=starting)
    np.copyto(cand, seen, where=starting)
    np.copyto(cand, 0.0, where=~other)
    np.copyto(since, np.nan, where=~other)
    return other & (t - since >= persist - 1e-9)  # 1e-9: float frame times


def cooldown_ready(state: TrackState, t: float, cooldown_s: float) -> bool:
    """A track that never fired is ready at once; one that did waits `cooldown_s`."""
    return state.last_fired is None or t - state.last_fired >= cooldown_s


def selection_mask(tracks: Detections, class_ids: np.ndarray, min_confidence: float) -> np.ndarray:
    """(N,) bool rows a rule looks at: tracked (tracker_id >= 0), of its classes, confident.

    A row filtered out counts as "not seen this frame" for the rule, so a confidence dip is
    handled like a short occlusion rather than as leaving the fence.
    """
    return (
        tracks.is_tracked
        & np.isin(tracks.class_id, class_ids)
        & (tracks.confidence >= min_confidence)
    )


def select_tracks(tracks: Detections, class_ids: np.ndarray, min_confidence: float) -> Detections:
    """The rows of `selection_mask` as a batch."""
    if len(tracks) == 0:
        return tracks
    return tracks[selection_mask(tracks, class_ids, min_confidence)]


def event_object(tracks: Detections, i: int, point: np.ndarray) -> EventObject:
    cid = int(tracks.class_id[i])
    x1, y1, x2, y2 = (float(v) for v in tracks.xyxy[i])
    return EventObject(
        track_id=int(tracks.tracker_id[i]),
        class_id=cid,
        label=label(cid),
        confidence=float(tracks.confidence[i]),
        bbox=(x1, y1, x2, y2),
        point=(float(point[0]), float(point[1])),
    )


class RuleRuntime:
    """Common constructor and helpers of rule objects; subclasses implement `update`."""

    kind: str = ""
    vectorized = False  # True: the engine calls `step(view, t)` with a shared FrameView

    def __init__(self, spec: RuleBase, camera_id: str, frame_size: tuple[int, int]):
        self.spec = spec
        self.camera_id = camera_id
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.class_ids = np.array([class_id(c) for c in spec.classes], dtype=np.int32)
        # Rules with equal keys select the same rows, so the engine shares one FrameView.
        self.view_key = (self.class_ids.tobytes(), spec.min_confidence, spec.anchor)
        self.states: TrackStates = TrackStates(spec.forget_after_s)

    @property
    def id(self) -> str:
        return self.spec.id

    def select(self, tracks: Detections) -> tuple[Detections, np.ndarray]:
        """The rows this rule considers and their anchor points, (N, 2) float64 pixels."""
        sel = select_tracks(tracks, self.class_ids, self.spec.min_confidence)
        return sel, sel.anchors(self.spec.anchor).astype(np.float64)

    def state_size(self) -> int:
        return len(self.states)

    def geometry_px(self) -> np.ndarray:
        raise NotImplementedError

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        raise NotImplementedError

    def make_event(
        self,
        t: float,
        started_at: float,
        track_id: int,
        objects: tuple[EventObject, ...],
        evidence: dict,
    ) -> RuleEvent:
        return RuleEvent(
            rule_id=self.spec.id,
            rule_kind=self.kind,
            rule_version=self.spec.version,
            severity=self.spec.severity,
            camera_id=self.camera_id,
            t=float(t),
            started_at=float(started_at),
            track_id=int(track_id),
            objects=objects,
            zone=self.spec.display_name,
            evidence=evidence,
        )


class VectorRule(RuleRuntime):
    """A rule whose per-track state is a `SlotState` table, updated for all tracks at once.

    Subclasses list their state `columns` as (name, default) and implement `step`. The engine
    calls `step` with a `FrameView` it shares between rules; `update` (for tests and tools that
    drive one rule alone) builds the view with a table of the rule's own.
    """

    vectorized = True
    columns: tuple[tuple[str, float], ...] = ()

    def __init__(self, spec: RuleBase, camera_id: str, frame_size: tuple[int, int]):
        super().__init__(spec, camera_id, frame_size)
        names = [name for name, _ in self.columns]
        ho = spec.handover
        self.handover = Handover(ho.max_gap_s, ho.max_distance) if ho.enabled else None
        self.slots = SlotState(
            names, [d for _, d in self.columns], spec.forget_after_s, inherit=self.handover
        )
        self.c = self.slots.col  # column index by name, for the subclasses' array code
        self._own_table: TrackTable | None = None
        self._table: TrackTable | None = None  # the table of the last step
        self._t = -np.inf

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        if self._own_table is None:
            self._own_table = TrackTable(self.spec.forget_after_s, handover=self.handover)
            self._own_table.frame_size = self.frame_size
        # Every tracked row goes through the table, as in the engine: hand-over decisions are
        # about who is who on the camera, whatever this rule selects.
        tracked = tracks.is_tracked
        all_slots = np.full(len(tracks), -1, dtype=np.int64)
        all_slots[tracked] = self._own_table.lookup(
            tracks.tracker_id[tracked], t, tracks.xyxy[tracked], tracks.class_id[tracked]
        )
        mask = selection_mask(tracks, self.class_ids, self.spec.min_confidence)
        sel = tracks[mask]
        points = sel.anchors(self.spec.anchor).astype(np.float64)
        return self.step(FrameView(sel, points, all_slots[mask], self._own_table), t)

    def batch_key(self) -> tuple:
        """Rules with equal keys can be stepped together (`step_batch`): same kind, same
        selection and the same state layout."""
        return (type(self), self.view_key, len(self.slots.defaults))

    def step(self, view: FrameView, t: float) -> list[RuleEvent]:
        return type(self).step_batch([self], view, t)

    @classmethod
    def step_batch(
        cls,
        rules: list["VectorRule"],
        view: FrameView,
        t: float,
        store: StateBatch | None = None,
    ) -> list[RuleEvent]:
        """Step R rules of one batch key on one frame: their state rows are stacked into one
        (R, N, C) array so the state machine costs a few array operations for all R rules,
        not R times as many (50 fences on a camera is the normal case). `store` keeps the
        rules' states in one array across frames (the engine's), else each is gathered."""
        for rule in rules:
            rule._table, rule._t = view.table, t
        if len(view.slots) == 0:
            return []
        if store is not None:
            rows = store.gather(view, t)
        else:
            rows = np.stack([rule.slots.gather(view, t) for rule in rules])
        fire = cls.transition_batch(rules, view, rows, t)
        if store is not None:
            store.scatter(view, rows, t)
        else:
            for r, rule in enumerate(rules):
                rule.slots.scatter(view, rows[r], t)
        if not fire.any():
            return []
        return [
            rules[r].event_for(view, rows[r], int(i), t) for r, i in zip(*np.nonzero(fire))
        ]

    @classmethod
    def transition_batch(
        cls, rules: list["VectorRule"], view: FrameView, rows: np.ndarray, t: float
    ) -> np.ndarray:
        """Update `rows` (R, N, C) in place; return (R, N) bool, the rows that fire.

        This default runs each rule's `transition`; kinds override it with array code."""
        return np.stack([rule.transition(view, rows[r], t) for r, rule in enumerate(rules)])

    def transition(self, view: FrameView, rows: np.ndarray, t: float) -> np.ndarray:
        """Update `rows` (N, C) in place for this frame; return the (N,) bool rows that fire."""
        return type(self).transition_batch([self], view, rows[None], t)[0]

    def event_for(self, view: FrameView, rows: np.ndarray, i: int, t: float) -> RuleEvent:
        raise NotImplementedError

    def cooled(self, rows: np.ndarray, t: float) -> np.ndarray:
        """(N,) bool: never fired (last_fired defaults to -inf) or at least cooldown_s ago."""
        return t - rows[:, self.c["last_fired"]] >= self.spec.cooldown_s

    def state_size(self) -> int:
        return 0 if self._table is None else self.slots.size(self._table, self._t)


def spec_column(rules: list[RuleRuntime], name: str) -> np.ndarray:
    """(R, 1) float64 of a spec field over a batch of rules, to broadcast against (R, N)."""
    return np.array([getattr(rule.spec, name) for rule in rules], dtype=np.float64)[:, None]
