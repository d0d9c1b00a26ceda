"""SensorEvent: what a non-video sensor reported, in one shape for every transport.

MQTT messages, webhook POSTs and ONVIF PullPoint notifications all become a `SensorEvent` before
any rule sees them, so sensor rules (`rules.sensor_rules`) never know how an event arrived. The
JSON payload that MQTT publishers and webhook callers send is documented in docs/sensors.md;
`parse_sensor_payload` turns it into a `SensorEvent` or raises `SensorPayloadError` with a short
reason (the adapters log it with the sensor id and count it by reason).

This module is plain data and parsing: no I/O, no clocks (the caller passes the receive time).
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SensorKind = Literal[
    "fence_vibration",  # electronic fence: vibration / climb alarm
    "fence_pulse",  # pulse (energised) fence: wire cut or short
    "door_contact",  # active=True means open
    "panic_button",  # active=True means pressed
    "smoke",
    "motion",  # PIR or camera-side motion (ONVIF tns1:VideoSource/MotionAlarm)
    "tamper",  # enclosure opened, camera moved or covered
    "digital_input",  # a generic dry contact (ONVIF tns1:Device/Trigger/DigitalInput)
    "line_crossed",  # camera-side analytics (ONVIF tns1:RuleEngine/LineDetector/Crossed)
    "field_intrusion",  # camera-side analytics (ONVIF tns1:RuleEngine/FieldDetector/ObjectsInside)
    "other",
]
SensorSource = Literal["mqtt", "webhook", "onvif"]

SENSOR_KINDS: tuple[str, ...] = get_args(SensorKind)
SENSOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"

# A payload larger than this is not a sensor reading; refusing it early bounds memory per message.
MAX_PAYLOAD_BYTES = 64 * 1024

# Accept timestamps from 2001 to 2286 (epoch seconds); anything else is almost surely milliseconds
# or a bogus clock, and a rule that trusts it would open or close windows at the wrong time.
_MIN_EPOCH_S = 1.0e9
_MAX_EPOCH_S = 1.0e10


class GeoPoint(BaseModel):
    """WGS84 position of a sensor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90, description="Latitude, degrees (WGS84)")
    lon: float = Field(ge=-180, le=180, description="Longitude, degrees (WGS84)")


class SensorEvent(BaseModel):
    """One report from one sensor, at time `t` (Unix epoch seconds).

    `active` is the state the report asserts: True = alarm/open/pressed, False = cleared/closed,
    None = a momentary event without a state (a pulse, a line crossing). `camera_id` and `zone`
    name the camera view the sensor is next to, which is what video confirmation looks at; the
    adapters fill them from configs/sensors.yaml when the payload leaves them out.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sensor_id: str = Field(pattern=SENSOR_ID_PATTERN, description="Stable id of the sensor")
    kind: SensorKind = Field(description="What the sensor reports")
    t: float = Field(description="Event time, Unix epoch seconds (from the sensor when it has one)")
    active: bool | None = Field(
        default=None,
        description="True = alarm/open/pressed, False = cleared/closed, None = momentary event",
    )
    source: SensorSource = Field(description="Transport the event arrived by")
    camera_id: str | None = Field(default=None, description="Camera whose view covers the sensor")
    location: GeoPoint | None = Field(default=None, description="Where the sensor is")
    zone: str | None = Field(default=None, description="Fence/zone name in the camera's rules")
    payload: dict[str, Any] = Field(
        default_factory=dict, description="Anything else the sensor sent, kept for evidence"
    )

    @field_validator("t")
    @classmethod
    def _epoch_seconds(cls, v: float) -> float:
        if not (_MIN_EPOCH_S <= v <= _MAX_EPOCH_S):
            raise ValueError(f"t={v!r} is not Unix epoch seconds (milliseconds? wrong clock?)")
        return float(v)


class SensorPayloadError(ValueError):
    """A payload that cannot become a SensorEvent; `reason` is a short metric label."""

    def __init__(self, reason: str, detail: str, sensor_id: str | None = None):
        self.reason = reason
        self.detail = detail
        self.sensor_id = sensor_id
        super().__init__(f"{reason}: {detail}")


# Wire fields a publisher may send (docs/sensors.md); everything else is an error, because a typo
# such as "activ" would otherwise silently turn an alarm into a stateless event.
_WIRE_FIELDS = {"sensor_id", "kind", "t", "active", "camera_id", "location", "zone", "payload"}


def parse_sensor_payload(
    raw: bytes | str | dict[str, Any],
    *,
    source: SensorSource,
    received_at: float,
    sensor_id: str | None = None,
    default_kind: str | None = None,
) -> SensorEvent:
    """Parse one JSON payload into a SensorEvent.

    `sensor_id` comes from the transport (the MQTT topic, the webhook path) when it has one; a
    payload that names a different id is refused (one sensor must not speak for another). A
    payload without `t` is stamped with `received_at` and says so in `payload["t_source"]`; one
    without `kind` takes `default_kind` (the sensor's kind in sensors.yaml) when given.
    Raises SensorPayloadError with reason one of: too_large, not_json, not_object,
    unknown_field, sensor_mismatch, invalid.
    """
    if isinstance(raw, dict):
        data: Any = raw
    else:
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise SensorPayloadError("too_large", f"{len(raw)} bytes > {MAX_PAYLOAD_BYTES}", sensor_id)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SensorPayloadError("not_json", str(exc)[:120], sensor_id) from None
    if not isinstance(data, dict):
        raise SensorPayloadError("not_object", f"JSON {type(data).__name__}, expected an object", sensor_id)
    unknown = sorted(set(data) - _WIRE_FIELDS)
    if unknown:
        raise SensorPayloadError("unknown_field", f"unknown field(s) {unknown}", sensor_id)
    claimed = data.get("sensor_id")
    if sensor_id is not None and claimed is not None and claimed != sensor_id:
        raise SensorPayloadError(
            "sensor_mismatch", f"payload sensor_id {claimed!r} != transport id {sensor_id!r}", sensor_id
        )
    fields = dict(data)
    if fields.get("kind") is None and default_kind is not None:
        fields["kind"] = default_kind  # the sensor's configured kind (sensors.yaml)
    fields["sensor_id"] = claimed if claimed is not None else sensor_id
    given = fields.get("payload")
    extra = dict(given) if isinstance(given, dict) else ({} if given is None else given)
    if fields.get("t") is None:
        fields["t"] = received_at
        if isinstance(extra, dict):
            extra["t_source"] = "received"
    fields["payload"] = extra
    fields["source"] = source
    try:
        return SensorEvent.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise SensorPayloadError("invalid", f"{where}: {first['msg']}", fields.get("sensor_id") or sensor_id) from None
