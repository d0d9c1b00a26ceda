"""Camera health for the command room, fed by the worker's `lookout.health.v1` records.

The worker publishes one record per camera at every state change and every `publish_every_s`
(ingest/health_events.py). `HealthFeed` consumes that topic in its own consumer group, keeps the
newest record per camera in a `HealthBoard` (memory only: a health snapshot is worth nothing
later, and the next record arrives within seconds) and pushes each one to the operators' stream
as a `health` event. A camera whose records stop coming (worker down, bus cut) turns `silent`
after `SILENT_AFTER_S`: no news is not good news. Cameras with no record at all fall back to the
age of their newest frame file (`frame_age_s`), which is what the console showed before.

The api does not import `ingest` (they talk only over the bus), so the topic name is repeated here.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from alerts.bus import Bus, BusError, Consumer

log = logging.getLogger(__name__)

HEALTH_TOPIC = "lookout.health.v1"  # == ingest.health_events.HEALTH_TOPIC
SILENT_AFTER_S = 30.0  # three missed publishes at the worker's default 10 s
STATES = ("live", "connecting", "stalled", "lost", "ended")
FRAME_FRESH_S = 10.0  # fallback without records: the worker writes a frame about every second


class HealthBoard:
    """Newest health record per camera; thread-safe (the feed writes, requests read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, dict[str, Any]] = {}

    def update(self, rec: dict[str, Any]) -> bool:
        """Keep `rec` if it is newer than what we have; False for older or malformed records."""
        cam, at, state = rec.get("camera_id"), rec.get("at"), rec.get("state")
        if not isinstance(cam, str) or not isinstance(at, int | float) or state not in STATES:
            return False
        with self._lock:
            old = self._latest.get(cam)
            if old is not None and old["at"] > at:  # replayed or reordered: the newer one stays
                return False
            self._latest[cam] = rec
        return True

    def get(self, camera_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._latest.get(camera_id)

    def all(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._latest)


def shown_state(rec: dict[str, Any] | None, frame_age_s: float | None, now: float) -> str:
    """What the console says about a camera: the worker's state while its reports are fresh,
    `silent` when they stopped, else (never reported) live / stale / none from the frame file."""
    if rec is not None:
        return "silent" if now - rec["at"] > SILENT_AFTER_S else rec["state"]
    if frame_age_s is None:
        return "none"
    return "live" if frame_age_s <= FRAME_FRESH_S else "stale"


def view(camera: dict[str, Any], rec: dict[str, Any] | None, frame_age_s: float | None, now: float) -> dict[str, Any]:
    """One camera row for the console: config fields, shown state, last frame, the record's details."""
    keep = ("state", "at", "last_frame_at", "outage_since", "fps_in", "reconnects", "restarts", "error")
    last_seen = rec.get("last_frame_at") if rec else None
    if last_seen is None and frame_age_s is not None:
        last_seen = now - frame_age_s
    return {**camera, "frame_age_s": frame_age_s, "health": shown_state(rec, frame_age_s, now),
            "last_seen": last_seen, "report": {k: rec.get(k) for k in keep} if rec else None}


class HealthFeed(threading.Thread):
    """Consumes `lookout.health.v1` into a board and pushes each record to `push`."""

    def __init__(self, bus: Bus, board: HealthBoard, push: Callable[[dict[str, Any]], None], group_id: str,
                 poll_timeout: float = 0.5):
        super().__init__(name="lookout-health-feed", daemon=True)
        self.bus, self.board, self.push, self.group_id = bus, board, push, group_id
        self.poll_timeout = poll_timeout
        self.received = 0
        self._stopping = threading.Event()
        self._consumer: Consumer | None = None

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.join(timeout)

    def run(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                if self._consumer is None:
                    self.bus.ensure_topics([HEALTH_TOPIC])
                    self._consumer = self.bus.consumer([HEALTH_TOPIC], self.group_id)
                self.poll_once()
                backoff = 0.2
            except Exception as exc:  # bus down: the board turns "silent" by itself meanwhile
                if backoff == 0.2:
                    log.warning("health feed: %s; retrying", exc if isinstance(exc, BusError) else repr(exc))
                self._close()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._close()

    def poll_once(self) -> int:
        assert self._consumer is not None
        records = self._consumer.poll(timeout=self.poll_timeout)
        for r in records:
            try:
                rec = json.loads(r.value)
            except ValueError:
                log.warning("health feed: record %s@%d is not JSON; skipped", r.topic, r.offset)
                continue
            if isinstance(rec, dict) and self.board.update(rec):
                self.push({"type": "health", "health": rec})
        if records:
            self._consumer.commit()  # a restarted API does not replay the whole history
            self.received += len(records)
        return len(records)

    def _close(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:
                log.debug("closing the health consumer failed", exc_info=True)
        self._consumer = None


def start_feed(app: Any, bus: Bus) -> None:
    """Called from create_app once the bus is open: `app.state.health_feed` consumes, pushes to the hub."""
    app.state.health_board = HealthBoard()
    feed = HealthFeed(bus, app.state.health_board, app.state.hub.publish, f"{app.state.settings.group_id}-health")
    feed.start()
    app.state.health_feed = feed


def stop_feed(app: Any) -> None:
    feed = getattr(app.state, "health_feed", None)
    if feed is not None:
        feed.stop()
        app.state.health_feed = None
