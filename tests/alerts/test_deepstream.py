"""The DeepStream-style mapping: nvmsgconv's field names and event types."""

from __future__ import annotations

from datetime import timedelta

from alerts.bridges.deepstream import to_deepstream
from alerts.build import follow_up
from alerts.model import Location
from tests.alerts.conftest import sample_alert


def test_maps_sensor_place_object_event():
    alert = sample_alert(7).model_copy(update={"location": Location(lat=31.23, lon=121.47, zone="gate")})
    msg = to_deepstream(alert)
    expected = {"messageid", "mdsversion", "@timestamp", "place", "sensor", "analyticsModule", "object", "event"}
    assert expected <= set(msg)
    assert msg["sensor"] == {"id": "cam-1", "type": "Camera", "description": "",
                             "location": {"lat": 31.23, "lon": 121.47, "alt": 0.0},
                             "coordinate": {"x": 0.0, "y": 0.0, "z": 0.0}}
    assert msg["place"]["id"] == "test-site" and msg["place"]["entrance"] == {"name": "gate"}
    assert msg["object"]["id"] == "7" and "person" in msg["object"]
    assert msg["object"]["bbox"] == {"topleftx": 1.0, "toplefty": 2.0, "bottomrightx": 30.0, "bottomrighty": 80.0}
    assert msg["event"] == {"id": alert.alert_id, "type": "entry"}  # tripwire crossed inwards
    assert msg["@timestamp"].endswith("Z") and msg["analyticsModule"]["description"] == "tripwire"


def test_event_types_follow_direction_and_lifecycle():
    alert = sample_alert(1)
    out = alert.model_copy(update={"evidence": {"direction": "out"}})
    assert to_deepstream(out)["event"]["type"] == "exit"
    dwell = alert.model_copy(update={"rule": alert.rule.model_copy(update={"kind": "dwell"})})
    assert to_deepstream(dwell)["event"]["type"] == "stopped"
    end = follow_up(dwell, "end", observed_at=dwell.observed_at + timedelta(seconds=5))
    assert to_deepstream(end)["event"]["type"] == "reset"
    assert to_deepstream(end)["messageid"] == end.delivery_id != to_deepstream(dwell)["messageid"]
