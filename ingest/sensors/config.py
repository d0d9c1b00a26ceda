"""`sensors.yaml`: sensors, their transports (MQTT, webhook), drone telemetry, sensor rules and
camera-health alerts.

Secrets never sit in the file: the webhook token and the MQTT password are read from the
environment variables the file names, so the file can be committed and shown in the console.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.sensor_events import SENSOR_ID_PATTERN, GeoPoint, SensorKind
from rules.sensor_rules import SensorRuleSpec

from ingest.health_events import CameraHealthConfig

_TOPIC_LEVEL = r"^[^#+/\s][^#+\s]*[^#+/\s]$|^[^#+/\s]$"


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SensorConfig(_M):
    """One known sensor: where it is and which camera looks at it."""

    id: str = Field(pattern=SENSOR_ID_PATTERN, description="Sensor id as it appears in topics, URLs and payloads")
    kind: SensorKind = Field(description="What the sensor is; a payload without 'kind' takes this one")
    name: str = Field(default="", description="Human name shown to operators")
    camera: str | None = Field(default=None, description="Camera (cameras.yaml id) whose view covers the sensor")
    zone: str | None = Field(default=None, description="Fence/zone (rule name or id) on that camera next to the sensor")
    location: GeoPoint | None = Field(default=None, description="Where the sensor is (WGS84)")


class MqttConfig(_M):
    enabled: bool = Field(default=False, description="Subscribe to sensor and drone topics")
    host: str = Field(default="127.0.0.1", description="Broker host")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port")
    client_id: str = Field(default="lookout-worker", min_length=1, max_length=64,
                           description="MQTT client id; keep it stable per worker so a persistent session "
                           "keeps QoS 1 messages that arrive while the worker restarts")
    persistent_session: bool = Field(default=True, description="clean_session=false: the broker queues messages while we are away")
    username: str | None = Field(default=None, description="Broker user name")
    password_env: str | None = Field(default=None, description="Environment variable holding the broker password")
    sensor_topic: str = Field(default="lookout/sensors", pattern=_TOPIC_LEVEL,
                              description="Prefix; a sensor publishes to PREFIX/<sensor_id>")
    drone_topic: str = Field(default="lookout/drones", pattern=_TOPIC_LEVEL,
                             description="Prefix; a drone publishes telemetry to PREFIX/<drone_id>/telemetry")
    qos: int = Field(default=1, ge=0, le=2, description="Subscription QoS")


class WebhookConfig(_M):
    enabled: bool = Field(default=False, description="Run the HTTP webhook in the worker")
    host: str = Field(default="127.0.0.1", description="Listen address (loopback unless a proxy with TLS fronts it)")
    port: int = Field(default=8091, ge=0, le=65535, description="Listen port (0 = any free port)")
    path: str = Field(default="/sensors", pattern=r"^/[A-Za-z0-9_/-]*[A-Za-z0-9_-]$",
                      description="POST PATH/<sensor_id> (or POST PATH with sensor_id in the body)")
    token_env: str = Field(default="LOOKOUT_SENSOR_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$",
                           description="Environment variable holding the shared token callers send "
                           "as 'Authorization: Bearer TOKEN'; the webhook refuses to start without it")


class DroneConfig(_M):
    camera: str = Field(description="cameras.yaml id of the drone's video (kind: drone)")
    drone_id: str = Field(pattern=SENSOR_ID_PATTERN, description="Id in the telemetry topic")
    sidecar: str | None = Field(default=None, description="JSON-lines telemetry file instead of MQTT (relative to the config folder)")
    max_gap_s: float = Field(default=2.0, gt=0, description="A frame further than this from every sample gets no telemetry")


class SensorsFile(_M):
    """`sensors.yaml`."""

    sensors: list[SensorConfig] = Field(default_factory=list, description="Known sensors")
    accept_unknown: bool = Field(default=False, description="Take events from sensor ids not listed above")
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="MQTT transport")
    webhook: WebhookConfig = Field(default_factory=WebhookConfig, description="HTTP webhook transport")
    drones: list[DroneConfig] = Field(default_factory=list, description="Drone telemetry sources")
    rules: list[SensorRuleSpec] = Field(default_factory=list, description="Sensor rules")
    camera_health: CameraHealthConfig = Field(default_factory=CameraHealthConfig, description="Stream health events")

    @field_validator("sensors")
    @classmethod
    def _unique_sensors(cls, v: list[SensorConfig]) -> list[SensorConfig]:
        _unique([s.id for s in v], "sensor")
        return v

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, v: list) -> list:
        _unique([r.id for r in v], "rule")
        return v

    @model_validator(mode="after")
    def _rules_name_known_sensors(self) -> SensorsFile:
        known = {s.id for s in self.sensors}
        if self.accept_unknown:
            return self
        for i, rule in enumerate(self.rules):
            missing = [s for s in rule.sensors if s not in known]
            if missing:
                raise ValueError(f"rules[{i}] ({rule.id}) names unknown sensor(s) {missing}")
        return self

    def sensor(self, sensor_id: str) -> SensorConfig | None:
        return next((s for s in self.sensors if s.id == sensor_id), None)


def _unique(ids: list[str], what: str) -> None:
    first: dict[str, int] = {}
    for i, x in enumerate(ids):
        if x in first:
            raise ValueError(f"duplicate {what} id {x!r} (items {first[x]} and {i})")
        first[x] = i


def load_sensors(path: Path | str) -> SensorsFile:
    from rules.configfile import load_model

    return load_model(SensorsFile, Path(path))
