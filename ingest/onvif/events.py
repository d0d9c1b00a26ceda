"""ONVIF notifications (PullPoint) → `rules.sensor_events.SensorEvent`.

Pure parsing: the poller hands us each `wsnt:NotificationMessage` element as lxml from the raw
reply. We read the topic text from XML ourselves because zeep drops the text of the mixed-content
`wsnt:Topic` (its object comes back with `_value_1=None`), and we resolve the topic's prefix
through the element's namespaces, since cameras bind the ONVIF topic namespace to any prefix.

Topics we do not map (vendor topics, CPU monitoring...) return None and are counted by the caller,
not treated as errors: cameras send many of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from rules.sensor_events import SensorEvent

ONVIF_TOPICS_NS = "http://www.onvif.org/ver10/topics"
WSNT = "{http://docs.oasis-open.org/wsn/b-2}"
TT = "{http://www.onvif.org/ver10/schema}"
_SENSOR_ID_BAD = re.compile(r"[^A-Za-z0-9_.:-]")
# Same bounds as SensorEvent.t: a camera whose clock says 1970 still gets its events through,
# stamped with our receive time.
_MIN_EPOCH_S, _MAX_EPOCH_S = 1.0e9, 1.0e10


@dataclass(frozen=True)
class TopicRule:
    kind: str  # SensorEvent.kind
    state: str | None  # the Data item that holds the alarm state; None = momentary event
    # Source items that name the sensor, first found wins (becomes part of sensor_id).
    ids: tuple[str, ...] = ("VideoSourceToken", "Source", "VideoSourceConfigurationToken")
    zone_item: str | None = None  # Source item copied to SensorEvent.zone (analytics rule name)


_RULE_IDS = ("Rule", "VideoAnalyticsConfigurationToken", "VideoSourceConfigurationToken")
TOPICS: dict[str, TopicRule] = {
    "VideoSource/MotionAlarm": TopicRule("motion", "State"),
    "RuleEngine/CellMotionDetector/Motion": TopicRule("motion", "IsMotion", _RULE_IDS, "Rule"),
    "RuleEngine/MotionRegionDetector/Motion": TopicRule("motion", "State", _RULE_IDS, "Rule"),
    "RuleEngine/TamperDetector/Tamper": TopicRule("tamper", "IsTamper", _RULE_IDS, "Rule"),
    "Device/Trigger/DigitalInput": TopicRule("digital_input", "LogicalState", ("InputToken",)),
    "RuleEngine/LineDetector/Crossed": TopicRule("line_crossed", None, _RULE_IDS, "Rule"),
    "RuleEngine/FieldDetector/ObjectsInside": TopicRule("field_intrusion", "IsInside", _RULE_IDS, "Rule"),
}
# Image-quality alarms (scene changed, too dark, blurred...) all mean someone may be tampering.
TAMPER_PREFIXES = ("VideoSource/GlobalSceneChange/", "VideoSource/ImageTooBlurry/",
                   "VideoSource/ImageTooDark/", "VideoSource/ImageTooBright/")


class NotificationError(ValueError):
    """A notification we cannot read; `reason` is a short metric label."""

    def __init__(self, reason: str, detail: str):
        self.reason = reason
        super().__init__(f"{reason}: {detail}")


def topic_path(notification: etree._Element) -> str:
    """The topic without its prefix, e.g. 'RuleEngine/LineDetector/Crossed'; '' for a vendor topic."""
    topic = notification.find(f"{WSNT}Topic")
    text = (topic.text or "").strip() if topic is not None else ""
    if not text:
        raise NotificationError("no_topic", "notification without a topic")
    prefix, _, path = text.rpartition(":")
    ns = topic.nsmap.get(prefix or None) if prefix else None
    # A prefix the message does not declare is read as tns1 (some firmwares forget the xmlns).
    if prefix and ns is not None and ns != ONVIF_TOPICS_NS:
        return ""
    return path.strip("/")


def _rule_for(path: str) -> TopicRule | None:
    if path in TOPICS:
        return TOPICS[path]
    if path.startswith(TAMPER_PREFIXES):
        return TopicRule("tamper", "State")
    return None


def _items(message: etree._Element, tag: str) -> dict[str, str]:
    group = message.find(f"{TT}{tag}")
    if group is None:
        return {}
    return {el.get("Name", ""): el.get("Value", "") for el in group.iter(f"{TT}SimpleItem")}


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise NotificationError("bad_state", f"state {value!r} is not a boolean")


def _time(message: etree._Element, received_at: float) -> tuple[float, str]:
    raw = message.get("UtcTime")
    if raw:
        try:
            t = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError:
            t = None
        if t is not None and _MIN_EPOCH_S <= t <= _MAX_EPOCH_S:
            return t, "camera"
    return received_at, "received"


def _sensor_id(camera_id: str, kind: str, token: str | None) -> str:
    raw = f"{camera_id}:{kind}" + (f":{token}" if token else "")
    return _SENSOR_ID_BAD.sub("_", raw)[:128]


def to_sensor_event(notification: etree._Element, camera_id: str, received_at: float) -> SensorEvent | None:
    """One `wsnt:NotificationMessage` as a SensorEvent; None for topics we do not map.

    Raises NotificationError(reason) for a message that cannot be read: no_topic, no_message,
    no_state, bad_state.
    """
    path = topic_path(notification)
    rule = _rule_for(path)
    if rule is None:
        return None
    message = notification.find(f"{WSNT}Message/{TT}Message")
    if message is None:
        raise NotificationError("no_message", f"{path}: no tt:Message inside wsnt:Message")
    source, data = _items(message, "Source"), _items(message, "Data")
    active = None
    if rule.state is not None:
        if rule.state not in data:
            raise NotificationError("no_state", f"{path}: Data has no {rule.state} item")
        active = _bool(data[rule.state])
    t, t_source = _time(message, received_at)
    token = next((source[k] for k in rule.ids if source.get(k)), None)
    payload = {"topic": f"tns1:{path}", "property_operation": message.get("PropertyOperation", ""),
               "source_items": source, "data_items": data}
    if t_source == "received":
        payload["t_source"] = "received"
    return SensorEvent(
        sensor_id=_sensor_id(camera_id, rule.kind, token), kind=rule.kind, t=t, active=active, source="onvif",
        camera_id=camera_id, zone=source.get(rule.zone_item) if rule.zone_item else None, payload=payload,
    )
