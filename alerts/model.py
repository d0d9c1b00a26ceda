"""Alert v1: the JSON contract on topic `lookout.alerts.v1` (DESIGN.md, docs/alert-v1.schema.json)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
ALERTS_TOPIC = "lookout.alerts.v1"
DISPATCH_EVENTS_TOPIC = "lookout.dispatch-events.v1"
DEAD_LETTER_TOPIC = "lookout.alerts.dlq"

# Fixed namespace: alert ids must be equal across processes, machines and releases.
_ALERT_NS = uuid.UUID("6c1f7c62-3f5e-4f43-9f0e-6a3b8f1d2a10")


def make_alert_id(site: str, source_id: str, rule_id: str, track_id: int, started_at: float) -> str:
    """Deterministic id: the same fired condition gives the same id in a replay or a retry.

    `started_at` is rounded to milliseconds so float noise does not split one alert into two.
    """
    key = f"{site}/{source_id}/{rule_id}/{track_id}/{round(started_at * 1000)}"
    return str(uuid.uuid5(_ALERT_NS, key))


class _Model(BaseModel):
    # Consumers ignore fields they do not know, so newer producers stay readable (compat test).
    model_config = ConfigDict(extra="ignore")


class Source(_Model):
    kind: Literal["camera", "drone", "sensor"]
    id: str


class RuleRef(_Model):
    id: str
    kind: str
    severity: Literal["low", "medium", "high", "critical"]
    version: int = 1


class AlertObject(_Model):
    track_id: int
    label: str
    confidence: float
    bbox: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in pixels")
    point: tuple[float, float] | None = Field(default=None, description="anchor point, pixels")
    geo: tuple[float, float] | None = Field(default=None, description="lat, lon when calibrated")


class Location(_Model):
    lat: float | None = None
    lon: float | None = None
    zone: str | None = None


Lifecycle = Literal["start", "update", "end"]


class TrackPoint(_Model):
    t: float = Field(description="seconds relative to observed_at (negative: before the alert)")
    x: float = Field(description="anchor x, pixels of the source frame")
    y: float = Field(description="anchor y, pixels of the source frame")


class Clip(_Model):
    """The video evidence of an alert. The URI is fixed when the alert is built; the file appears
    about `post_s` seconds later (until then the API answers 404 "clip not ready")."""

    uri: str = Field(description="evidence://clips/<alert_id>.mp4 (local store) or s3://bucket/key")
    content_type: str = "video/mp4"
    pre_s: float = Field(description="seconds recorded before the alert")
    post_s: float = Field(description="seconds recorded after the alert")
    track_id: int | None = Field(default=None, description="the track the alert is about")
    track: list[TrackPoint] = Field(default_factory=list, description="that track's path up to the alert")


class Alert(_Model):
    alert_id: str
    schema_version: int = SCHEMA_VERSION
    site: str
    source: Source
    rule: RuleRef
    started_at: datetime
    observed_at: datetime
    emitted_at: datetime
    objects: list[AlertObject] = Field(default_factory=list)
    location: Location = Field(default_factory=Location)
    snapshot: str | None = Field(default=None, description="URI of the annotated snapshot")
    # Added within v1 (optional): old consumers ignore it; the rule version is `rule.version`.
    clip: Clip | None = Field(default=None, description="Video clip around the alert and the track")
    evidence: dict[str, Any] = Field(default_factory=dict)
    media_time: float | None = Field(
        default=None, description="seconds from the start of the file, for file and replay input"
    )
    drill: bool = False
    # Lifecycle (added within v1, like Frigate's new/update/end events): a loitering alert sends one
    # `start`, then `update`s and an `end` with the same alert_id and a rising `sequence`. Old
    # consumers ignore both fields and see every message as the same alert again (a no-op).
    lifecycle: Lifecycle = Field(
        default="start",
        description="start (default, also what a producer without lifecycle means), update or end",
    )
    sequence: int = Field(default=0, ge=0, description="0 for start; +1 for each later update or end")
    ended_at: datetime | None = Field(default=None, description="UTC time the condition ended (end only)")

    @property
    def delivery_id(self) -> str:
        """Dedupe key of this message (outbox, bridges): the alert_id for a start, so existing
        stores are unchanged, and alert_id:lifecycle:sequence for the messages after it."""
        if self.lifecycle == "start" and self.sequence == 0:
            return self.alert_id
        return f"{self.alert_id}:{self.lifecycle}:{self.sequence}"

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> "Alert":
        return cls.model_validate_json(data)

    @property
    def key(self) -> bytes:
        """Bus key: per-source ordering."""
        return self.source.id.encode()
