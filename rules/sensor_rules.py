"""Sensor rules: pure state machines that turn SensorEvents (and video sightings) into events.

Two kinds:
- `sensor_alarm`: a sensor alone is enough (a panic button → critical at once; a door contact
  opened outside its allowed hours → high). Optional weekly `allowed` windows in the site's time
  zone silence the rule inside them.
- `video_confirmed`: a sensor alarm (fence vibration, pulse fence) is confirmed by the camera
  next to it: a person seen in that camera's zone within `window_s` seconds before or after
  the alarm → `severity` (high) at once; no sighting by the end of the window →
  `unconfirmed_severity` (medium) or nothing.

Video arrives as `VideoSighting`s built from the camera's RuleEvents or its tracks
(`sightings_from_event`, `sightings_from_tracks`). No I/O and no clock here: callers pass times
(Unix epoch seconds) and call `tick(now)` so pending windows close even when nothing arrives.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, time as dtime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from detectors.detections import Detections
from detectors.labels import label as class_label
from rules.config import SLUG, Severity
from rules.events import EventObject, RuleEvent
from rules.sensor_events import SensorEvent, SensorKind

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class TimeWindow(BaseModel):
    """A weekly window, local time of the site. `end` before `start` spans midnight."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    days: list[Day] = Field(default_factory=lambda: list(_DAYS), min_length=1, description="Days the window starts on")
    start: dtime = Field(description="Local start time, HH:MM")
    end: dtime = Field(description="Local end time, HH:MM (before start = ends next day)")

    def contains(self, local: datetime) -> bool:
        now, day = local.time(), _DAYS[local.weekday()]
        if self.start <= self.end:
            return day in self.days and self.start <= now < self.end
        prev = _DAYS[(local.weekday() - 1) % 7]
        return (day in self.days and now >= self.start) or (prev in self.days and now < self.end)


class SensorRuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=SLUG, description="Stable slug; part of alert ids")
    name: str = Field(default="", description="Human-readable name shown to operators")
    enabled: bool = Field(default=True, description="Disabled rules are kept but not run")
    version: int = Field(default=1, ge=1, description="Bump when the rule changes meaning")
    severity: Severity = Field(default="high", description="Severity of the alert")
    sensor_kinds: list[SensorKind] = Field(default_factory=list, description="Sensor kinds this rule takes (empty = any)")
    sensors: list[str] = Field(default_factory=list, description="Sensor ids this rule takes (empty = any)")
    cooldown_s: float = Field(
        default=30.0, ge=0,
        description="After firing for a sensor, further alarms of that sensor within this many "
        "seconds belong to the same alert (a vibrating fence reports many times a second)",
    )

    def takes(self, ev: SensorEvent) -> bool:
        return ((not self.sensor_kinds or ev.kind in self.sensor_kinds)
                and (not self.sensors or ev.sensor_id in self.sensors)
                and ev.active is not False)  # a "cleared"/"closed" report never raises an alarm


class SensorAlarmSpec(SensorRuleBase):
    kind: Literal["sensor_alarm"] = "sensor_alarm"
    allowed: list[TimeWindow] = Field(
        default_factory=list,
        description="Weekly windows (site time zone) in which the event is normal and no alert "
        "fires, e.g. a door's opening hours; empty = always alarm",
    )


class VideoConfirmedSpec(SensorRuleBase):
    kind: Literal["video_confirmed"] = "video_confirmed"
    camera: str | None = Field(default=None, description="Camera that confirms (default: the sensor's camera)")
    zone: str | None = Field(
        default=None,
        description="Zone (fence rule name or id) on that camera; default: the sensor's zone; "
        "none at all = any sighting on the camera",
    )
    labels: list[str] = Field(default_factory=lambda: ["person"], min_length=1, description="Object labels that confirm")
    window_s: float = Field(default=10.0, gt=0, le=600, description="A sighting this many seconds before or after confirms")
    unconfirmed_severity: Severity | None = Field(
        default="medium", description="Severity when no sighting confirms by the end of the window; null = no alert"
    )


SensorRuleSpec = Annotated[SensorAlarmSpec | VideoConfirmedSpec, Field(discriminator="kind")]


@dataclass(frozen=True)
class VideoSighting:
    """An object of `label` seen by `camera_id` at `t`, inside `zone` when a fence rule says so."""

    camera_id: str
    t: float
    label: str
    zone: str | None = None
    obj: EventObject | None = None


def sightings_from_event(ev: RuleEvent) -> list[VideoSighting]:
    """A fence rule fired: its objects were in its zone (matched by zone name or rule id)."""
    out = []
    for o in ev.objects:
        for zone in {ev.zone, ev.rule_id} - {None}:
            out.append(VideoSighting(ev.camera_id, ev.t, o.label, zone, o))
    return out


def sightings_from_tracks(camera_id: str, t: float, tracks: Detections, zone: str | None = None) -> list[VideoSighting]:
    """Every tracked object of one frame (zone=None: somewhere in the camera's view)."""
    out = []
    for i in range(len(tracks)):
        x1, y1, x2, y2 = (float(v) for v in tracks.xyxy[i])
        obj = EventObject(int(tracks.tracker_id[i]), int(tracks.class_id[i]), class_label(int(tracks.class_id[i])),
                          float(tracks.confidence[i]), (x1, y1, x2, y2), ((x1 + x2) / 2, y2))
        out.append(VideoSighting(camera_id, t, obj.label, zone, obj))
    return out


@dataclass(frozen=True)
class SensorRuleEvent:
    """A sensor rule fired. `started_at` is the triggering SensorEvent's t (alert ids use it)."""

    rule_id: str
    rule_kind: str
    rule_version: int
    severity: Severity
    sensor_id: str
    sensor_kind: str
    t: float
    started_at: float
    camera_id: str | None = None
    zone: str | None = None
    objects: tuple[EventObject, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)


class SensorAlarm:
    def __init__(self, spec: SensorAlarmSpec, timezone: str = "UTC"):
        self.spec = spec
        self.tz = ZoneInfo(timezone)
        self._last: dict[str, float] = {}  # sensor id -> when it last fired

    def on_sensor(self, ev: SensorEvent) -> list[SensorRuleEvent]:
        if not self.spec.takes(ev):
            return []
        local = datetime.fromtimestamp(ev.t, self.tz)
        if any(w.contains(local) for w in self.spec.allowed):
            return []
        last = self._last.get(ev.sensor_id)
        if last is not None and 0 <= ev.t - last < self.spec.cooldown_s:
            return []
        self._last[ev.sensor_id] = ev.t
        return [SensorRuleEvent(self.spec.id, self.spec.kind, self.spec.version, self.spec.severity, ev.sensor_id,
                                ev.kind, ev.t, ev.t, ev.camera_id, ev.zone,
                                evidence={"active": ev.active, "local_time": local.strftime("%a %H:%M"), **_brief(ev)})]

    def on_sighting(self, s: VideoSighting) -> list[SensorRuleEvent]:
        return []

    def tick(self, now: float) -> list[SensorRuleEvent]:
        # Forget sensors whose cooldown is over, so the state stays as small as the alarm rate.
        self._last = {k: v for k, v in self._last.items() if now - v < self.spec.cooldown_s}
        return []

    def state_size(self) -> int:
        return len(self._last)


@dataclass
class _Pending:
    ev: SensorEvent
    camera: str | None
    zone: str | None
    count: int = 1  # alarms of the same sensor merged into this one
    done: bool = False


class VideoConfirmed:
    def __init__(self, spec: VideoConfirmedSpec, timezone: str = "UTC"):
        self.spec = spec
        self._pending: dict[str, _Pending] = {}  # sensor id -> open alarm (or closed, in cooldown)
        self._seen: deque[VideoSighting] = deque(maxlen=10_000)  # recent sightings, oldest first

    def _matches(self, p: _Pending, s: VideoSighting) -> bool:
        return (s.label in self.spec.labels and (p.camera is None or s.camera_id == p.camera)
                and (p.zone is None or s.zone == p.zone) and abs(s.t - p.ev.t) <= self.spec.window_s)

    def _fire(self, p: _Pending, s: VideoSighting | None) -> SensorRuleEvent:
        p.done = True
        sev = self.spec.severity if s is not None else self.spec.unconfirmed_severity
        evidence = {"confirmed": s is not None, "window_s": self.spec.window_s, "alarms": p.count, **_brief(p.ev)}
        if s is not None:
            evidence |= {"video_camera": s.camera_id, "video_zone": s.zone, "video_delay_s": round(s.t - p.ev.t, 3)}
        return SensorRuleEvent(self.spec.id, self.spec.kind, self.spec.version, sev, p.ev.sensor_id, p.ev.kind,
                               s.t if s is not None else p.ev.t + self.spec.window_s, p.ev.t,
                               p.camera, p.zone, (s.obj,) if s is not None and s.obj else (), evidence)

    def on_sensor(self, ev: SensorEvent) -> list[SensorRuleEvent]:
        if not self.spec.takes(ev):
            return []
        p = self._pending.get(ev.sensor_id)
        if p is not None and 0 <= ev.t - p.ev.t < max(self.spec.cooldown_s, self.spec.window_s):
            p.count += 1
            return []
        camera = self.spec.camera or ev.camera_id
        zone = self.spec.zone or (ev.zone if self.spec.camera is None or self.spec.camera == ev.camera_id else None)
        p = self._pending[ev.sensor_id] = _Pending(ev, camera, zone)
        for s in self._seen:  # a person seen shortly before the alarm confirms it too
            if self._matches(p, s):
                return [self._fire(p, s)]
        return []

    def on_sighting(self, s: VideoSighting) -> list[SensorRuleEvent]:
        if s.label not in self.spec.labels:
            return []
        self._seen.append(s)
        return [self._fire(p, s) for p in self._pending.values() if not p.done and self._matches(p, s)]

    def tick(self, now: float) -> list[SensorRuleEvent]:
        out = []
        for sid, p in list(self._pending.items()):
            if not p.done and now - p.ev.t > self.spec.window_s:
                ev = self._fire(p, None)
                if self.spec.unconfirmed_severity is not None:
                    out.append(ev)
            if p.done and now - p.ev.t >= max(self.spec.cooldown_s, self.spec.window_s):
                del self._pending[sid]
        while self._seen and now - self._seen[0].t > self.spec.window_s:
            self._seen.popleft()
        return out

    def state_size(self) -> int:
        return len(self._pending) + len(self._seen)


SENSOR_RULE_KINDS = {"sensor_alarm": SensorAlarm, "video_confirmed": VideoConfirmed}


def build_sensor_rule(spec: SensorAlarmSpec | VideoConfirmedSpec, timezone: str = "UTC"):
    return SENSOR_RULE_KINDS[spec.kind](spec, timezone)


def _brief(ev: SensorEvent) -> dict[str, Any]:
    """What of the SensorEvent goes into alert evidence."""
    out: dict[str, Any] = {"sensor_kind": ev.kind, "source": ev.source}
    if ev.payload:
        out["payload"] = ev.payload
    return out

