"""The one door every sensor message goes through, whatever its transport.

`SensorIntake.submit` parses a payload, checks the sensor is known, fills camera/zone/location
from sensors.yaml and hands the SensorEvent to the sink (the sensor engine). A bad payload raises
`SensorPayloadError`, after it was counted in `lookout_sensor_rejected{source,reason}` and logged
with the sensor id; the adapters turn that into an HTTP 4xx or just drop the MQTT message. Logs
of rejections are rate-limited per sensor and reason, so a misconfigured sensor that publishes
ten times a second cannot flood the log.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

from prometheus_client import Counter

from rules.sensor_events import SENSOR_ID_PATTERN, SensorEvent, SensorPayloadError, SensorSource, parse_sensor_payload

from ingest.sensors.config import SensorsFile

log = logging.getLogger("lookout.sensors")

SENSOR_EVENTS = Counter("lookout_sensor_events", "Sensor events accepted", ["source", "kind"])
SENSOR_REJECTED = Counter("lookout_sensor_rejected", "Sensor payloads rejected, by reason", ["source", "reason"])
_LOG_EVERY_S = 10.0
_ID = re.compile(SENSOR_ID_PATTERN)


class SensorIntake:
    def __init__(self, cfg: SensorsFile, sink: Callable[[SensorEvent], None], clock: Callable[[], float] = time.time):
        self.cfg = cfg
        self.sink = sink
        self.clock = clock
        self._known = {s.id: s for s in cfg.sensors}
        self._lock = threading.Lock()
        self._last_log: dict[tuple[str, str], float] = {}
        self.accepted = 0
        self.rejected = 0

    def submit(self, raw: bytes | str | dict, *, source: SensorSource, sensor_id: str | None = None) -> SensorEvent:
        """Parse, check and deliver one payload; SensorPayloadError (already counted) if bad."""
        try:
            if sensor_id is not None and not _ID.match(sensor_id):
                raise SensorPayloadError("bad_sensor_id", f"sensor id {sensor_id[:80]!r} is not a valid id", None)
            known = self._known.get(sensor_id) if sensor_id else None
            ev = parse_sensor_payload(raw, source=source, received_at=self.clock(), sensor_id=sensor_id,
                                      default_kind=known.kind if known else None)
            known = self._known.get(ev.sensor_id)
            if known is None and not self.cfg.accept_unknown:
                raise SensorPayloadError("unknown_sensor", "not in sensors.yaml (accept_unknown is false)", ev.sensor_id)
            if known is not None:
                ev = ev.model_copy(update={
                    "camera_id": ev.camera_id or known.camera,
                    "zone": ev.zone or known.zone,
                    "location": ev.location or known.location,
                })
        except SensorPayloadError as exc:
            self.reject(source, exc)
            raise
        SENSOR_EVENTS.labels(source=source, kind=ev.kind).inc()
        with self._lock:
            self.accepted += 1
        self.sink(ev)
        return ev

    def reject(self, source: str, exc: SensorPayloadError) -> None:
        """Count and log a payload refused before or during parsing."""
        SENSOR_REJECTED.labels(source=source, reason=exc.reason).inc()
        sid = exc.sensor_id or "?"
        now = time.monotonic()
        with self._lock:
            self.rejected += 1
            key = (sid, exc.reason)
            last = self._last_log.get(key)
            loud = last is None or now - last >= _LOG_EVERY_S
            if loud:
                self._last_log[key] = now
                if len(self._last_log) > 10_000:  # ids come from outside: bound the memory
                    self._last_log.clear()
        (log.warning if loud else log.debug)("sensor %s via %s: rejected (%s): %s", sid, source, exc.reason, exc.detail)
