"""Stream health on the bus, and a low-severity alert when a camera stays lost.

`CameraHealthTracker` is the pure part: supervisor snapshots in, health records and alerts out.
A camera is in an outage from the first snapshot in which it is not live (connecting, stalled,
lost; "ended" is a file that finished, not an outage). An outage longer than `lost_after_s`
gives ONE alert, rule kind `camera_health`, whose id depends on the camera and the outage start:
a worker that publishes it twice (restart, retry) produces the same id, and the next outage a
new one. Records go on `lookout.health.v1` at every state change and every `publish_every_s`.

`HealthEvents` runs it in the worker: alerts go to the outbox (durable, like every alert);
records go straight to the bus from a background thread, best effort: a health snapshot that
cannot be delivered now is worthless later, so it is dropped, never queued on disk.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field

from alerts.bus import open_bus
from alerts.model import Alert, Location, RuleRef, Source, make_alert_id

from ingest.health import StreamHealth

log = logging.getLogger("lookout.health")

HEALTH_TOPIC = "lookout.health.v1"
HEALTH_RULE_ID = "camera-health"
HEALTH_RULE_KIND = "camera_health"
_NOT_LIVE = {"connecting", "stalled", "lost"}
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.I)


class CameraHealthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Publish stream health and alert on lost cameras")
    lost_after_s: float = Field(default=60.0, gt=0, description="A stream not live for this long becomes an alert")
    publish_every_s: float = Field(default=10.0, gt=0, description="Health records on the bus this often (and on every state change)")
    severity: str = Field(default="low", pattern=r"^(low|medium|high|critical)$", description="Severity of the lost-camera alert")


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


@dataclass
class _Cam:
    state: str | None = None
    outage_since: float | None = None
    alerted: bool = False
    published_at: float = float("-inf")


class CameraHealthTracker:
    def __init__(self, site: str, cfg: CameraHealthConfig, *, kinds: dict[str, str] | None = None,
                 locations: dict[str, tuple[float, float]] | None = None):
        self.site = site
        self.cfg = cfg
        self.kinds = kinds or {}
        self.locations = locations or {}
        self._cams: dict[str, _Cam] = {}

    def update(self, health: dict[str, StreamHealth], now: float) -> tuple[list[dict], list[Alert]]:
        records: list[dict] = []
        alerts: list[Alert] = []
        for cam_id, h in health.items():
            c = self._cams.setdefault(cam_id, _Cam())
            changed = h.state != c.state
            c.state = h.state
            if h.state in _NOT_LIVE:
                if c.outage_since is None:
                    c.outage_since = now
                if not c.alerted and now - c.outage_since > self.cfg.lost_after_s:
                    c.alerted = True
                    alerts.append(self._alert(h, c.outage_since, now))
            elif c.outage_since is not None:
                if c.alerted:
                    log.info("camera %s: live again after %.0f s", cam_id, now - c.outage_since)
                c.outage_since, c.alerted = None, False
            if changed or now - c.published_at >= self.cfg.publish_every_s:
                c.published_at = now
                records.append(self._record(h, c, now))
        return records, alerts

    def _record(self, h: StreamHealth, c: _Cam, now: float) -> dict:
        return {"schema": HEALTH_TOPIC, "site": self.site, "camera_id": h.camera_id, "at": now, "state": h.state,
                "fps_in": round(h.fps_in, 2), "frames": h.frames, "dropped": h.dropped, "reconnects": h.reconnects,
                "restarts": h.restarts, "last_frame_at": h.last_frame_at, "error": _redact(h.error),
                "outage_since": c.outage_since}

    def _alert(self, h: StreamHealth, since: float, now: float) -> Alert:
        lat, lon = self.locations.get(h.camera_id, (None, None))
        kind = self.kinds.get(h.camera_id, "camera")
        log.warning("camera %s: not live for %.0f s (state %s): alert", h.camera_id, now - since, h.state)
        return Alert(
            alert_id=make_alert_id(self.site, h.camera_id, HEALTH_RULE_ID, -1, since),
            site=self.site,
            source=Source(kind=kind if kind in ("camera", "drone") else "camera", id=h.camera_id),
            rule=RuleRef(id=HEALTH_RULE_ID, kind=HEALTH_RULE_KIND, severity=self.cfg.severity),
            started_at=_utc(since), observed_at=_utc(now), emitted_at=datetime.now(timezone.utc),
            location=Location(lat=lat, lon=lon),
            evidence={"state": h.state, "not_live_s": round(now - since, 1), "error": _redact(h.error),
                      "reconnects": h.reconnects, "restarts": h.restarts, "last_frame_at": h.last_frame_at},
        )


def _redact(text: str | None) -> str | None:
    """Decoder errors may quote the stream URL: drop the user:password part."""
    return _USERINFO.sub(r"\1***@", text) if text else text


class HealthEvents:
    """The worker's side: `poll(health, now)` from the frame loop (cheap, at most once a second)."""

    def __init__(self, tracker: CameraHealthTracker, *, bus_url: str, emit: Callable[[Alert], object]):
        self.tracker = tracker
        self.bus_url = bus_url
        self.emit = emit
        self.published = 0
        self.dropped = 0
        self._last_poll = float("-inf")
        self._queue: queue.Queue[dict | None] = queue.Queue(maxsize=1000)
        self._thread = threading.Thread(target=self._publish, name="health-publisher", daemon=True)
        self._thread.start()

    def due(self, now_monotonic: float) -> bool:
        if now_monotonic - self._last_poll < 1.0:
            return False
        self._last_poll = now_monotonic
        return True

    def poll(self, health: dict[str, StreamHealth], now: float) -> list[Alert]:
        records, alerts = self.tracker.update(health, now)
        for a in alerts:
            self.emit(a)
        for r in records:
            try:
                self._queue.put_nowait(r)
            except queue.Full:  # the bus is slow or down; newer snapshots matter more
                self.dropped += 1
        return alerts

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _publish(self) -> None:
        producer = None
        failing = False
        while True:
            rec = self._queue.get()
            if rec is None:
                break
            try:
                if producer is None:
                    bus = open_bus(self.bus_url)
                    bus.ensure_topics([HEALTH_TOPIC])  # brokers may not auto-create topics
                    producer = bus.producer()
                producer.send(HEALTH_TOPIC, json.dumps(rec).encode(), rec["camera_id"].encode())
                producer.flush(5.0)
                self.published += 1
                if failing:
                    log.info("health records reach the bus again")
                failing = False
            except Exception as exc:  # best effort; a new producer next time (Kafka ones can die)
                self.dropped += 1
                if not failing:
                    log.warning("health record not published (dropped): %s", exc)
                failing = True
                producer = _close(producer)
        _close(producer)


def _close(producer) -> None:
    if producer is not None:
        try:
            producer.close()
        except Exception:
            log.debug("closing the health producer failed", exc_info=True)
    return None
