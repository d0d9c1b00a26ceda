"""alert_from_event: the fields a rule event becomes."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from alerts.build import alert_from_event
from alerts.model import Alert, Location, make_alert_id
from rules.events import EventObject, RuleEvent

ORIGIN = 1_790_000_000.0


def _event(**over) -> RuleEvent:
    fields = dict(
        rule_id="yard-dwell",
        rule_kind="dwell",
        rule_version=3,
        severity="medium",
        camera_id="cam-7",
        t=42.5,
        started_at=30.25,
        track_id=11,
        objects=(
            EventObject(track_id=11, class_id=0, label="person", confidence=np.float32(0.8),
                        bbox=(10.0, 20.0, 50.0, 120.0), point=(30.0, 120.0)),
        ),
        zone="yard",
        evidence={"dwell_s": np.float64(12.25), "count": np.int64(1)},
    )
    fields.update(over)
    return RuleEvent(**fields)


def test_fields_from_event_and_file_clock():
    emitted = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    alert = alert_from_event(
        _event(), site="depot", clock_origin=ORIGIN, snapshot="file:///snap.jpg", media_time=42.5,
        location=Location(lat=31.2, lon=121.5), emitted_at=emitted,
    )
    assert alert.alert_id == make_alert_id("depot", "cam-7", "yard-dwell", 11, ORIGIN + 30.25)
    assert alert.site == "depot"
    assert (alert.source.kind, alert.source.id) == ("camera", "cam-7")
    assert (alert.rule.id, alert.rule.kind, alert.rule.severity, alert.rule.version) == (
        "yard-dwell", "dwell", "medium", 3)
    assert alert.started_at == datetime.fromtimestamp(ORIGIN + 30.25, tz=timezone.utc)
    assert alert.observed_at == datetime.fromtimestamp(ORIGIN + 42.5, tz=timezone.utc)
    assert alert.emitted_at == emitted
    assert (alert.location.lat, alert.location.lon, alert.location.zone) == (31.2, 121.5, "yard")
    (obj,) = alert.objects
    assert (obj.track_id, obj.label, obj.bbox, obj.point) == (11, "person", (10, 20, 50, 120), (30, 120))
    assert abs(obj.confidence - 0.8) < 1e-6
    assert alert.evidence == {"dwell_s": 12.25, "count": 1}
    assert alert.snapshot == "file:///snap.jpg" and alert.media_time == 42.5
    # numpy values in evidence must not break the wire format
    assert Alert.from_json(alert.to_json()) == alert


def test_live_clock_and_retry_give_the_same_id():
    live = _event(t=ORIGIN + 42.5, started_at=ORIGIN + 30.25)
    a = alert_from_event(live, site="depot")
    b = alert_from_event(live, site="depot")
    assert a.alert_id == b.alert_id
    assert a.started_at.tzinfo == timezone.utc
    # the same scene replayed from a file whose playback started at ORIGIN: same id
    assert alert_from_event(_event(), site="depot", clock_origin=ORIGIN).alert_id == a.alert_id


def test_group_event_and_defaults():
    alert = alert_from_event(_event(track_id=-1, objects=(), zone=None, evidence={}), site="depot",
                             source_kind="drone")
    assert alert.source.kind == "drone"
    assert alert.objects == [] and alert.location.zone is None and alert.snapshot is None
    assert alert.emitted_at.tzinfo is not None
