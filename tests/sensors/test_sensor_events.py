"""The SensorEvent contract and the documented JSON payload (docs/sensors.md)."""

from __future__ import annotations

import json

import pytest

from rules.sensor_events import SENSOR_KINDS, SensorEvent, SensorPayloadError, parse_sensor_payload

NOW = 1_795_000_000.0


def parse(payload, sensor_id="fence-1", **kw):
    raw = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return parse_sensor_payload(raw, source="mqtt", received_at=NOW, sensor_id=sensor_id, **kw)


def test_full_payload_becomes_an_event():
    ev = parse({"kind": "fence_vibration", "t": NOW - 1.5, "active": True, "camera_id": "plaza",
                "zone": "east", "location": {"lat": 31.2, "lon": 121.4}, "payload": {"level": 7}})
    assert ev == SensorEvent(sensor_id="fence-1", kind="fence_vibration", t=NOW - 1.5, active=True, source="mqtt",
                             camera_id="plaza", zone="east", location={"lat": 31.2, "lon": 121.4},
                             payload={"level": 7})


def test_missing_time_is_stamped_on_receipt_and_says_so():
    ev = parse({"kind": "panic_button", "active": True})
    assert ev.t == NOW and ev.payload == {"t_source": "received"}


def test_missing_kind_takes_the_configured_kind():
    assert parse({"active": True}, default_kind="door_contact").kind == "door_contact"


@pytest.mark.parametrize("raw, reason", [
    (b"not json{", "not_json"),
    (b"\xff\xfe", "not_json"),
    (b"[1, 2]", "not_object"),
    (b'"alarm"', "not_object"),
    ({"kind": "fence_vibration", "activ": True}, "unknown_field"),
    ({"kind": "laser"}, "invalid"),
    ({"kind": "smoke", "t": NOW * 1000}, "invalid"),  # milliseconds
    ({"kind": "smoke", "active": "maybe"}, "invalid"),
    ({"kind": "smoke", "location": {"lat": 95, "lon": 0}}, "invalid"),
    ({"kind": "smoke", "sensor_id": "other"}, "sensor_mismatch"),
    (b"{" + b" " * 70_000 + b"}", "too_large"),
])
def test_bad_payloads_are_refused_with_a_reason(raw, reason):
    with pytest.raises(SensorPayloadError) as err:
        parse(raw)
    assert err.value.reason == reason
    assert err.value.sensor_id == "fence-1"


def test_without_a_transport_id_the_payload_must_name_the_sensor():
    with pytest.raises(SensorPayloadError) as err:
        parse({"kind": "smoke"}, sensor_id=None)
    assert err.value.reason == "invalid" and "sensor_id" in err.value.detail
    assert parse({"kind": "smoke", "sensor_id": "s-9"}, sensor_id=None).sensor_id == "s-9"


def test_every_kind_of_the_issue_exists():
    assert {"fence_vibration", "fence_pulse", "door_contact", "panic_button", "smoke", "motion", "tamper",
            "digital_input", "line_crossed", "field_intrusion", "other"} == set(SENSOR_KINDS)
