"""Sensor rules of one worker: SensorEvents and camera output in, Alert v1 out.

Thread-safe (the MQTT loop, the webhook server and the frame loop all call in), and the only
place that turns a `SensorRuleEvent` into an Alert: source kind "sensor", key = sensor id, and
an id that depends on the triggering event's time, so a re-delivered MQTT message (QoS 1 is
at-least-once) produces the same alert id and the outbox drops the duplicate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from alerts.model import Alert, AlertObject, Location, RuleRef, Source, make_alert_id
from detectors.detections import Detections
from rules.sensor_events import SensorEvent
from rules.sensor_rules import (
    SensorRuleEvent,
    VideoSighting,
    build_sensor_rule,
    sightings_from_tracks,
)

from ingest.sensors.config import SensorsFile

log = logging.getLogger("lookout.sensors")


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


def sensor_alert(ev: SensorRuleEvent, *, site: str, cfg: SensorsFile | None = None) -> Alert:
    known = cfg.sensor(ev.sensor_id) if cfg is not None else None
    loc = known.location if known is not None else None
    evidence = dict(ev.evidence)
    if ev.camera_id:
        evidence["camera"] = ev.camera_id
    return Alert(
        alert_id=make_alert_id(site, ev.sensor_id, ev.rule_id, -1, ev.started_at),
        site=site,
        source=Source(kind="sensor", id=ev.sensor_id),
        rule=RuleRef(id=ev.rule_id, kind=ev.rule_kind, severity=ev.severity, version=ev.rule_version),
        started_at=_utc(ev.started_at),
        observed_at=_utc(ev.t),
        emitted_at=datetime.now(timezone.utc),
        objects=[AlertObject(track_id=o.track_id, label=o.label, confidence=o.confidence, bbox=o.bbox, point=o.point)
                 for o in ev.objects],
        location=Location(lat=loc.lat if loc else None, lon=loc.lon if loc else None, zone=ev.zone),
        evidence=evidence,
    )


class SensorEngine:
    """All sensor rules of `cfg`; alerts go to `emit` (e.g. `Outbox.put`)."""

    def __init__(self, cfg: SensorsFile, *, site: str, timezone: str = "UTC",
                 emit: Callable[[Alert], object] | None = None):
        self.cfg = cfg
        self.site = site
        self.emit = emit
        self.rules = [build_sensor_rule(spec, timezone) for spec in cfg.rules if spec.enabled]
        self._lock = threading.Lock()
        self.alerts = 0
        # Cameras some video_confirmed rule may need: the frame loop skips the others.
        self.cameras = {s.camera for s in cfg.sensors if s.camera} | {r.camera for r in cfg.rules
                                                                       if getattr(r, "camera", None)}

    def _out(self, events: Iterable[SensorRuleEvent]) -> list[Alert]:
        alerts = [sensor_alert(e, site=self.site, cfg=self.cfg) for e in events]
        for a in alerts:
            self.alerts += 1
            log.info("sensor alert %s rule=%s sensor=%s severity=%s", a.alert_id, a.rule.id, a.source.id, a.rule.severity)
            if self.emit is not None:
                self.emit(a)
        return alerts

    def on_sensor(self, ev: SensorEvent) -> list[Alert]:
        with self._lock:
            return self._out(e for r in self.rules for e in r.on_sensor(ev))

    def on_sightings(self, sightings: Iterable[VideoSighting]) -> list[Alert]:
        sightings = list(sightings)
        if not sightings:
            return []
        with self._lock:
            return self._out(e for s in sightings for r in self.rules for e in r.on_sighting(s))

    def on_camera(self, camera_id: str, t: float, tracks: Detections, alerts: Iterable[Alert] = ()) -> list[Alert]:
        """One analysed frame: its tracks (anywhere in view) and its fence alerts (in a zone)."""
        if camera_id not in self.cameras:
            return []
        sightings = sightings_from_tracks(camera_id, t, tracks)
        for a in alerts:
            for o in a.objects:
                for zone in {a.location.zone, a.rule.id} - {None}:
                    sightings.append(VideoSighting(camera_id, t, o.label, zone))
        return self.on_sightings(sightings)

    def tick(self, now: float) -> list[Alert]:
        with self._lock:
            return self._out(e for r in self.rules for e in r.tick(now))

    def state_size(self) -> int:
        with self._lock:
            return sum(r.state_size() for r in self.rules)
