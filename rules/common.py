"""What every rule kind shares: track selection, per-track state that expires, cooldown.

A rule object is a pure state machine. `RuleRuntime` holds the parts that are the same for all
kinds so each kind's module only contains its own geometry test and state transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Iterator, TypeVar

import numpy as np

from detectors.detections import Detections
from detectors.labels import class_id, label
from rules.config import RuleBase
from rules.events import EventObject, RuleEvent

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


def cooldown_ready(state: TrackState, t: float, cooldown_s: float) -> bool:
    """A track that never fired is ready at once; one that did waits `cooldown_s`."""
    return state.last_fired is None or t - state.last_fired >= cooldown_s


def select_tracks(tracks: Detections, class_ids: np.ndarray, min_confidence: float) -> Detections:
    """Rows a rule looks at: tracked (tracker_id >= 0), of its classes, confident enough.

    A row filtered out counts as "not seen this frame" for the rule, so a confidence dip is
    handled like a short occlusion rather than as leaving the fence.
    """
    if len(tracks) == 0:
        return tracks
    keep = (
        tracks.is_tracked
        & np.isin(tracks.class_id, class_ids)
        & (tracks.confidence >= min_confidence)
    )
    return tracks[keep]


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

    def __init__(self, spec: RuleBase, camera_id: str, frame_size: tuple[int, int]):
        self.spec = spec
        self.camera_id = camera_id
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.class_ids = np.array([class_id(c) for c in spec.classes], dtype=np.int32)
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
