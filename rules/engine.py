"""The per-camera rule engine: runs every enabled rule of one camera on each frame's tracks.

Rule objects need pixel geometry, and the frame size is only known once frames arrive (and may
change when a stream renegotiates its resolution), so they are built lazily on the first frame
and rebuilt when the size changes. `replace` is the hot reload: rules whose spec did not change
keep their per-track state, so editing one fence does not re-fire or forget the others, and
reports what changed (`RuleChanges`) for the worker's log and audit trail.

Schedules are applied here, not in each rule, so every kind gets them the same way: a rule out
of schedule is not run, and is rebuilt empty when it is switched off, so an intrusion that began
outside hours needs its whole minimum time inside hours. Schedules read wall-clock time,
`clock_origin + t` (0 for live streams, whose `t` is Unix time; a recording's start for replay).

Speed: rules that select alike share one selection and slot lookup per frame (`_Views`), and
armed vectorized rules of one kind are stepped together as one batch whose state stays in one
array across frames (`StateBatch`), so 50 fences cost a few array operations per kind rather
than per fence. Events still come out in rule order.

Identity hand-over: the shared track table gives a new tracker id that appears where a track
was just lost that track's slot, so rules keep the person's state across a tracker id switch
(`rules.slots`, `RuleBase.handover`).

Ground positions: rules that test where a track stands on the ground (geofence) get `ground`, a
function from (N, 2) pixels to (N, 2) [lat, lon] for this frame, which the caller builds from
the camera's calibration or the drone frame's telemetry. Without it they see no tracks; the
first such frame is logged once per rule, so a geofence on an uncalibrated camera is visible in
the log instead of silently never firing.
"""

from __future__ import annotations

import logging
from typing import Callable, Collection, Sequence

import numpy as np

from detectors.detections import Detections
from rules.abandoned import AbandonedObject
from rules.changes import RuleChanges, diff_specs
from rules.common import RuleRuntime, selection_mask
from rules.config import RuleBase
from rules.crowding import Crowding
from rules.fast_moving import FastMoving
from rules.events import RuleEvent
from rules.geofence import Geofence
from rules.loitering import Loitering
from rules.object_removed import ObjectRemoved
from rules.schedule import ScheduleClock, check_timezone
from rules.slots import FrameView, Handover, StateBatch, TrackTable
from rules.stationary import Stationary
from rules.tripwire import Tripwire
from rules.zone_entrance import ZoneEntrance
from rules.zone_exit import ZoneExit
from rules.zone_intrusion import ZoneIntrusion

# kind -> rule class. A new rule kind adds its module here and its spec to rules.config.RuleSpec.
RULE_KINDS: dict[str, type[RuleRuntime]] = {
    "zone_intrusion": ZoneIntrusion,
    "tripwire": Tripwire,
    "loitering": Loitering,
    "crowding": Crowding,
    "fast_moving": FastMoving,
    "stationary": Stationary,
    "zone_entrance": ZoneEntrance,
    "zone_exit": ZoneExit,
    "abandoned_object": AbandonedObject,
    "object_removed": ObjectRemoved,
    "geofence": Geofence,
}

log = logging.getLogger("lookout.rules")

GroundFn = Callable[[np.ndarray], np.ndarray]  # (N, 2) pixels -> (N, 2) lat, lon


def needs_ground(spec: RuleBase) -> bool:
    """Whether a rule kind tests ground positions (a camera without them cannot run it)."""
    return bool(getattr(RULE_KINDS.get(getattr(spec, "kind", None)), "uses_ground", False))


def build_rule(spec: RuleBase, camera_id: str, frame_size: tuple[int, int]) -> RuleRuntime:
    kind = getattr(spec, "kind", None)  # every concrete spec has one; RuleBase itself does not
    if kind not in RULE_KINDS:
        raise ValueError(f"no rule implementation for kind {kind!r}")
    return RULE_KINDS[kind](spec, camera_id, frame_size)


def table_handover(specs: Sequence[RuleBase]) -> Handover | None:
    """The track table's hand-over limits: the widest of the rules that want one (each rule
    then keeps only the hand-overs within its own limits), None if no rule does."""
    on = [s.handover for s in specs if s.handover.enabled]
    if not on:
        return None
    return Handover(max(h.max_gap_s for h in on), max(h.max_distance for h in on))


class RuleEngine:
    """Rules of one camera. `timezone` is the site's IANA zone, used by schedules that name
    none; `clock_origin` is added to frame times to get Unix time for schedules."""

    def __init__(
        self,
        camera_id: str,
        specs: Sequence[RuleBase],
        timezone: str = "UTC",
        clock_origin: float = 0.0,
    ):
        self.camera_id = camera_id
        self.timezone = check_timezone(timezone)
        self.clock_origin = float(clock_origin)
        self._all_specs: list[RuleBase] = []  # as given, disabled ones too (for diffs)
        self._specs: list[RuleBase] = []
        self._frame_size: tuple[int, int] | None = None
        self._rules: dict[str, RuleRuntime] = {}  # rule id -> live object, in spec order
        self._clocks: dict[str, ScheduleClock] = {}
        self._off: set[str] = set()  # ids of rules currently out of schedule
        # Slots of tracker ids, shared by the vectorized rules; kept across reloads.
        self._table = TrackTable(forget_after_s=10.0)
        self._stores: dict[tuple[int, ...], StateBatch] = {}  # batches of the last frame
        self._no_ground_logged: set[str] = set()  # ground rules already warned about
        self.last_changes = self.replace(specs)

    @property
    def specs(self) -> list[RuleBase]:
        return list(self._specs)

    @property
    def rules(self) -> list[RuleRuntime]:
        """Live rule objects (empty until the first frame), e.g. for annotators."""
        return list(self._rules.values())

    @property
    def uses_ground(self) -> bool:
        """Whether any enabled rule tests ground positions (callers skip mapping pixels if not)."""
        return self._uses_ground

    def replace(self, specs: Sequence[RuleBase]) -> RuleChanges:
        """Hot reload: keep the state of rules whose spec is unchanged, drop removed ones, and
        say what changed (disabled rules count as present, so toggling `enabled` is a change)."""
        ids = [s.id for s in specs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate rule ids in {ids}")
        changes = diff_specs(self._all_specs, specs)
        self._all_specs = list(specs)
        self._specs = [s for s in specs if s.enabled]
        self._uses_ground = any(needs_ground(spec) for spec in self._specs)
        self._clocks = {
            s.id: s.schedule.clock(self.timezone) for s in self._specs if s.schedule is not None
        }
        self._off &= set(self._clocks)
        self._table.forget_after_s = max((s.forget_after_s for s in self._specs), default=10.0)
        self._table.handover = table_handover(self._specs)
        old = self._rules
        self._rules = {}
        for spec in self._specs:
            kept = old.get(spec.id)
            if kept is not None and kept.spec == spec:
                self._rules[spec.id] = kept
            elif self._frame_size is not None:
                self._rules[spec.id] = build_rule(spec, self.camera_id, self._frame_size)
        self.last_changes = changes
        return changes

    def armed(self, rule_id: str, t: float) -> bool:
        """Whether the rule's schedule arms it at frame time `t` (always without a schedule)."""
        clock = self._clocks.get(rule_id)
        return clock is None or clock.armed(self.clock_origin + t)

    def update(
        self,
        tracks: Detections,
        t: float,
        frame_size: tuple[int, int],
        ground: GroundFn | None = None,
        newcomers: Collection[int] = (),
    ) -> list[RuleEvent]:
        """Events of all rules for one frame. `frame_size` is (width, height) in pixels;
        `ground` maps this frame's (N, 2) pixels to (N, 2) [lat, lon] (None: not known);
        `newcomers` are track ids the tracker split off a taken-over track: new people, whom the
        identity hand-over must not treat as a lost track's continuation."""
        size = (int(frame_size[0]), int(frame_size[1]))
        if size != self._frame_size:
            # Pixel geometry and remembered anchor positions are in the old size's pixels, so
            # the state cannot be carried over; a resolution change is rare.
            self._frame_size = size
            self._rules = {
                s.id: build_rule(s, self.camera_id, size) for s in self._specs
            }
        events: list[RuleEvent] = []
        self._table.frame_size = size  # hand-over: tracks lost at the edge left the picture
        views = _Views(tracks, t, self._table, newcomers)
        batches: dict[tuple, list] = {}
        for rid, rule in self._rules.items():
            if not self.armed(rid, t):
                if rid not in self._off:  # just switched off: forget everything it knew
                    self._off.add(rid)
                    self._rules[rid] = build_rule(rule.spec, self.camera_id, size)
                continue
            self._off.discard(rid)
            if rule.vectorized:
                batches.setdefault(rule.batch_key(), []).append(rule)
            elif getattr(rule, "uses_ground", False):
                if ground is None and rid not in self._no_ground_logged:
                    self._no_ground_logged.add(rid)
                    log.warning(
                        "camera %s rule %s (%s): no ground positions (camera not calibrated, "
                        "or a drone frame without telemetry); it sees no tracks until it gets "
                        "them", self.camera_id, rid, rule.kind,
                    )
                events.extend(rule.update(tracks, t, ground=ground))  # type: ignore[call-arg]
            else:
                events.extend(rule.update(tracks, t))
        stores, self._stores = self._stores, {}
        for batch in batches.values():
            # The members' state stays in one array while the batch keeps its members.
            key = tuple(id(rule) for rule in batch)
            store = stores.get(key)
            if store is None or any(a is not b.slots for a, b in zip(store.states, batch)):
                store = StateBatch([rule.slots for rule in batch])
            self._stores[key] = store
            events.extend(type(batch[0]).step_batch(batch, views.get(batch[0]), t, store))
        if len(events) > 1:  # in rule order, as the rules are listed, whatever the batching
            order = {rid: k for k, rid in enumerate(self._rules)}
            events.sort(key=lambda e: order[e.rule_id])
        return events

    def state_size(self) -> int:
        """Per-track entries held by all rules together (bounded by forget_after_s)."""
        return sum(r.state_size() for r in self._rules.values())


class _Views:
    """One frame's `FrameView`s, built on first use and shared by rules that select alike.

    Most rules of a camera watch the same classes with the same anchor, so the selection,
    anchor points and slot lookup are done once per frame instead of once per rule.
    """

    def __init__(self, tracks: Detections, t: float, table: TrackTable, newcomers: Collection[int] = ()):
        self.tracks, self.t, self.table, self.newcomers = tracks, t, table, newcomers
        self._slots: np.ndarray | None = None
        self._by_key: dict[tuple, FrameView] = {}

    def get(self, rule: RuleRuntime) -> FrameView:
        key = rule.view_key
        view = self._by_key.get(key)
        if view is None:
            if self._slots is None:  # every tracked row once, so no slot expires while seen
                tracked = self.tracks.is_tracked
                self._slots = np.full(len(self.tracks), -1, dtype=np.int64)
                self._slots[tracked] = self.table.lookup(
                    self.tracks.tracker_id[tracked],
                    self.t,
                    self.tracks.xyxy[tracked],
                    self.tracks.class_id[tracked],
                    newcomers=self.newcomers,
                )
            mask = selection_mask(self.tracks, rule.class_ids, rule.spec.min_confidence)
            sel = self.tracks[mask]
            points = sel.anchors(rule.spec.anchor).astype(np.float64)
            view = self._by_key[key] = FrameView(sel, points, self._slots[mask], self.table)
        return view
