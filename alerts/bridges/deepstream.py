"""Alert v1 → a DeepStream-style `sensor/place/object/event` message (nvmsgconv's full schema),
for existing NVIDIA Metropolis consumers. A pure function: no I/O.

Field names follow DeepStream's schema (`messageid`, `mdsversion`, `@timestamp`, `place`,
`sensor`, `analyticsModule`, `object` with `bbox.topleftx...`, `event.type`). DeepStream's event
types are entry, exit, moving, stopped, empty, parked and reset; Lookout's rule kinds map onto
them below, and the Lookout rule kind itself goes in `analyticsModule.description`.
"""

from __future__ import annotations

from typing import Any

from alerts.model import Alert

# Rule kind (and, for lines, the crossing direction) → DeepStream event type.
_EVENT_TYPES = {
    "intrusion": "entry",
    "zone": "entry",
    "dwell": "stopped",
    "loiter": "stopped",
    "loitering": "stopped",
    "abandoned": "parked",
    "count": "moving",
    "crowd": "moving",
}


def event_type(alert: Alert) -> str:
    if alert.lifecycle == "end":
        return "exit" if alert.rule.kind in ("intrusion", "zone") else "reset"
    if alert.rule.kind in ("tripwire", "line"):
        return "exit" if str(alert.evidence.get("direction", "in")).lower() in ("out", "exit") else "entry"
    return _EVENT_TYPES.get(alert.rule.kind, "moving")


def _location(lat: float | None, lon: float | None) -> dict[str, float]:
    return {"lat": lat or 0.0, "lon": lon or 0.0, "alt": 0.0}


def to_deepstream(alert: Alert, *, sensor_type: str | None = None) -> dict[str, Any]:
    """One DeepStream message for the alert's first object (DeepStream sends one per object)."""
    obj = alert.objects[0] if alert.objects else None
    loc = _location(alert.location.lat, alert.location.lon)
    message: dict[str, Any] = {
        "messageid": alert.delivery_id,
        "mdsversion": "1.0",
        "@timestamp": alert.observed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "place": {"id": alert.site, "name": alert.site, "type": "site",
                  "location": loc, "entrance": {"name": alert.location.zone or ""}},
        "sensor": {"id": alert.source.id, "type": sensor_type or alert.source.kind.capitalize(),
                   "description": "", "location": loc, "coordinate": {"x": 0.0, "y": 0.0, "z": 0.0}},
        "analyticsModule": {"id": alert.rule.id, "description": alert.rule.kind, "source": "Lookout",
                            "version": str(alert.rule.version)},
        "event": {"id": alert.alert_id, "type": event_type(alert)},
        "videoPath": alert.snapshot or "",
    }
    if obj is not None:
        x1, y1, x2, y2 = obj.bbox
        geo = _location(*obj.geo) if obj.geo else loc
        message["object"] = {
            "id": str(obj.track_id), "speed": 0.0, "direction": 0.0, "orientation": 0.0,
            obj.label: {}, "confidence": obj.confidence,
            "bbox": {"topleftx": x1, "toplefty": y1, "bottomrightx": x2, "bottomrighty": y2},
            "location": geo, "coordinate": {"x": 0.0, "y": 0.0, "z": 0.0},
        }
    return message
