"""Everything sensors.yaml asks a worker to run, behind four calls the frame loop makes.

`start()` opens the transports (MQTT, webhook) and loads drone sidecars; `on_frame(frame)` stamps
drone telemetry into `frame.meta`; `on_camera(...)` feeds the camera's tracks and fence alerts to
video-confirmed sensor rules; `tick(now)` closes confirmation windows. Alerts go to `emit`
(the worker's outbox), from whichever thread produced them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from alerts.model import Alert
from detectors.detections import Detections
from rules.sensor_events import SensorPayloadError

from ingest.frame import Frame
from ingest.sensors.config import SensorsFile
from ingest.sensors.drone import TelemetryTrack, parse_telemetry, stamp
from ingest.sensors.engine import SensorEngine
from ingest.sensors.intake import SensorIntake
from ingest.sensors.mqtt import MqttAdapter
from ingest.sensors.webhook import WebhookAdapter

log = logging.getLogger("lookout.sensors")


class SensorRuntime:
    def __init__(self, cfg: SensorsFile, *, site: str, timezone: str = "UTC",
                 emit: Callable[[Alert], object] | None = None, base_dir: Path | None = None,
                 webhook_token: str | None = None):
        self.cfg = cfg
        self.base_dir = Path(base_dir) if base_dir else Path(".")
        self.engine = SensorEngine(cfg, site=site, timezone=timezone, emit=emit)
        self.intake = SensorIntake(cfg, self.engine.on_sensor)
        self.tracks: dict[str, TelemetryTrack] = {}  # camera id -> its drone's telemetry
        self._drone_camera = {d.drone_id: d.camera for d in cfg.drones if d.sidecar is None}
        self.telemetry_rejected = 0
        self.mqtt: MqttAdapter | None = None
        self.webhook: WebhookAdapter | None = None
        self._webhook_token = webhook_token

    def start(self) -> SensorRuntime:
        for d in self.cfg.drones:
            if d.sidecar is not None:
                self.tracks[d.camera] = TelemetryTrack.from_sidecar(self.base_dir / d.sidecar, max_gap_s=d.max_gap_s)
            else:
                self.tracks[d.camera] = TelemetryTrack(max_gap_s=d.max_gap_s)
        if self.cfg.webhook.enabled:
            self.webhook = WebhookAdapter(self.cfg.webhook, self.intake, token=self._webhook_token).start()
        if self.cfg.mqtt.enabled:
            self.mqtt = MqttAdapter(self.cfg.mqtt, on_sensor=self._mqtt_sensor,
                                    on_telemetry=self._mqtt_telemetry if self._drone_camera else None).start()
        return self

    def stop(self) -> None:
        if self.mqtt is not None:
            self.mqtt.stop()
        if self.webhook is not None:
            self.webhook.stop()

    def _mqtt_sensor(self, payload: bytes, sensor_id: str) -> None:
        self.intake.submit(payload, source="mqtt", sensor_id=sensor_id)

    def _mqtt_telemetry(self, payload: bytes, drone_id: str) -> None:
        camera = self._drone_camera.get(drone_id)
        try:
            if camera is None:
                raise SensorPayloadError("unknown_drone", "not in sensors.yaml drones", drone_id)
            self.tracks[camera].add(parse_telemetry(payload, drone_id))
        except SensorPayloadError as exc:
            self.telemetry_rejected += 1
            self.intake.reject("mqtt", exc)

    def on_frame(self, frame: Frame) -> None:
        track = self.tracks.get(frame.camera_id)
        if track is not None:
            stamp(frame.meta, frame.t, track)

    def on_camera(self, camera_id: str, t: float, tracks: Detections, alerts: Iterable[Alert] = ()) -> list[Alert]:
        return self.engine.on_camera(camera_id, t, tracks, alerts)

    def tick(self, now: float | None = None) -> list[Alert]:
        return self.engine.tick(time.time() if now is None else now)
