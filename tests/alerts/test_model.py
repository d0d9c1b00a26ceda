"""Alert v1 on the wire: JSON round trip, forward compatibility, ids, the published schema."""

from __future__ import annotations

import json
from pathlib import Path

from alerts.model import Alert, make_alert_id
from alerts.schema import alert_json_schema, render
from tests.alerts.conftest import sample_alert

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "alert-v1.schema.json"


def test_json_round_trip_keeps_every_field():
    alert = sample_alert(3)
    again = Alert.from_json(alert.to_json())
    assert again == alert
    assert again.started_at.tzinfo is not None


def test_consumer_reads_alert_from_a_newer_producer():
    data = json.loads(sample_alert(1).to_json())
    data["future_field"] = {"nested": [1, 2, 3]}
    data["source"]["firmware"] = "9.9"
    data["objects"][0]["speed_mps"] = 1.4
    alert = Alert.from_json(json.dumps(data))
    assert alert.alert_id == data["alert_id"]
    assert alert.objects[0].label == "person"
    assert "future_field" not in alert.model_dump()


def test_alert_id_is_deterministic_and_distinguishes_inputs():
    a = make_alert_id("s", "cam", "rule", 7, 1_790_000_000.1234)
    assert a == make_alert_id("s", "cam", "rule", 7, 1_790_000_000.1234)
    # float noise below a millisecond must not split one alert into two
    assert a == make_alert_id("s", "cam", "rule", 7, 1_790_000_000.1234 + 1e-7)
    others = {
        make_alert_id("s2", "cam", "rule", 7, 1_790_000_000.1234),
        make_alert_id("s", "cam2", "rule", 7, 1_790_000_000.1234),
        make_alert_id("s", "cam", "rule2", 7, 1_790_000_000.1234),
        make_alert_id("s", "cam", "rule", 8, 1_790_000_000.1234),
        make_alert_id("s", "cam", "rule", 7, 1_790_000_001.1234),
    }
    assert a not in others and len(others) == 5


def test_committed_schema_matches_the_model():
    # Regenerate with: python -m alerts.schema docs/alert-v1.schema.json
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render()


def test_schema_has_identity_and_required_fields():
    schema = alert_json_schema()
    assert schema["$id"] and schema["title"] and schema["description"]
    assert {"alert_id", "site", "source", "rule", "started_at"} <= set(schema["required"])
    assert schema["properties"]["alert_id"]["description"]
    # Unknown fields must stay allowed, or the forward-compatibility promise breaks.
    assert schema.get("additionalProperties", True) is not False
