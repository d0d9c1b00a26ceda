"""The per-camera rule engine: runs every enabled rule of one camera on each frame's tracks.

Rule objects need pixel geometry, and the frame size is only known once frames arrive (and may
change when a stream renegotiates its resolution), so they are built lazily on the first frame
and rebuilt when the size changes. `replace` is the hot reload: rules whose spec did not change
keep their per-track state, so editing one fence does not re-fire or forget the others.
"""

from __future__ import annotations

from typing import Sequence

from detectors.detections import Detections
from rules.common import RuleRuntime
from rules.config import RuleBase
from rules.crowding import Crowding
from rules.events import RuleEvent
from rules.loitering import Loitering
from rules.tripwire import Tripwire
from rules.zone_intrusion import ZoneIntrusion

# kind -> rule class. A new rule kind adds its module here and its spec to rules.config.RuleSpec.
RULE_KINDS: dict[str, type[RuleRuntime]] = {
    "zone_intrusion": ZoneIntrusion,
    "tripwire": Tripwire,
    "loitering": Loitering,
    "crowding": Crowding,
}


def build_rule(spec: RuleBase, camera_id: str, frame_size: tuple[int, int]) -> RuleRuntime:
    kind = getattr(spec, "kind", None)  # every concrete spec has one; RuleBase itself does not
    if kind not in RULE_KINDS:
        raise ValueError(f"no rule implementation for kind {kind!r}")
    return RULE_KINDS[kind](spec, camera_id, frame_size)


class RuleEngine:
    def __init__(self, camera_id: str, specs: Sequence[RuleBase]):
        self.camera_id = camera_id
        self._specs: list[RuleBase] = []
        self._frame_size: tuple[int, int] | None = None
        self._rules: dict[str, RuleRuntime] = {}  # rule id -> live object, in spec order
        self.replace(specs)

    @property
    def specs(self) -> list[RuleBase]:
        return list(self._specs)

    @property
    def rules(self) -> list[RuleRuntime]:
        """Live rule objects (empty until the first frame), e.g. for annotators."""
        return list(self._rules.values())

    def replace(self, specs: Sequence[RuleBase]) -> None:
        """Hot reload: keep the state of rules whose spec is unchanged, drop removed ones."""
        ids = [s.id for s in specs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate rule ids in {ids}")
        self._specs = [s for s in specs if s.enabled]
        old = self._rules
        self._rules = {}
        for spec in self._specs:
            kept = old.get(spec.id)
            if kept is not None and kept.spec == spec:
                self._rules[spec.id] = kept
            elif self._frame_size is not None:
                self._rules[spec.id] = build_rule(spec, self.camera_id, self._frame_size)

    def update(
        self, tracks: Detections, t: float, frame_size: tuple[int, int]
    ) -> list[RuleEvent]:
        """Events of all rules for one frame. `frame_size` is (width, height) in pixels."""
        size = (int(frame_size[0]), int(frame_size[1]))
        if size != self._frame_size:
            # Pixel geometry and remembered anchor positions are in the old size's pixels, so
            # the state cannot be carried over; a resolution change is rare.
            self._frame_size = size
            self._rules = {
                s.id: build_rule(s, self.camera_id, size) for s in self._specs
            }
        events: list[RuleEvent] = []
        for rule in self._rules.values():
            events.extend(rule.update(tracks, t))
        return events

    def state_size(self) -> int:
        """Per-track entries held by all rules together (bounded by forget_after_s)."""
        return sum(r.state_size() for r in self._rules.values())
