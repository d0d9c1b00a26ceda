"""Sensor rules as pure state machines: synthetic SensorEvents and camera output, no I/O."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from detectors.detections import Detections
from rules.events import EventObject, RuleEvent
from rules.sensor_events import SensorEvent
from rules.sensor_rules import (
    SensorAlarm,
    SensorAlarmSpec,
    VideoConfirmed,
    VideoConfirmedSpec,
    sightings_from_event,
    sightings_from_tracks,
)

TZ = "Asia/Shanghai"
T0 = datetime(2026, 11, 23, 22, 0, tzinfo=ZoneInfo(TZ)).timestamp()  # a Monday, 22:00 local


def sensor(kind, t, sid="s-1", active=True, camera="plaza", zone="east"):
    return SensorEvent(sensor_id=sid, kind=kind, t=t, active=active, source="mqtt", camera_id=camera, zone=zone)


def person_in_zone(t, camera="plaza", zone="east", track=7):
    obj = EventObject(track, 0, "person", 0.9, (10, 10, 50, 120), (30, 120))
    return RuleEvent("east-road", "zone_intrusion", 1, "high", camera, t, t, track, (obj,), zone=zone)


def test_panic_button_is_critical_at_once_and_once_per_press():
    rule = SensorAlarm(SensorAlarmSpec(id="panic", sensor_kinds=["panic_button"], severity="critical", cooldown_s=60))
    fired = rule.on_sensor(sensor("panic_button", T0))
    assert [(e.severity, e.sensor_id, e.started_at) for e in fired] == [("critical", "s-1", T0)]
    assert rule.on_sensor(sensor("panic_button", T0 + 5)) == []  # the same press, repeated
    assert rule.on_sensor(sensor("panic_button", T0 + 1, sid="s-2"))  # another button fires on its own
    assert rule.on_sensor(sensor("panic_button", T0 + 61))  # a new press after the cooldown
    assert rule.on_sensor(sensor("smoke", T0 + 200)) == []  # not its kind


def test_released_button_and_closed_door_raise_nothing():
    rule = SensorAlarm(SensorAlarmSpec(id="any", severity="high"))
    assert rule.on_sensor(sensor("door_contact", T0, active=False)) == []


def test_door_open_alarms_only_outside_opening_hours():
    spec = SensorAlarmSpec(id="door", sensor_kinds=["door_contact"], cooldown_s=0,
                           allowed=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "19:00"}])
    rule = SensorAlarm(spec, timezone=TZ)
    monday_10 = T0 - 12 * 3600
    assert rule.on_sensor(sensor("door_contact", monday_10)) == []  # Monday 10:00: opening hours
    fired = rule.on_sensor(sensor("door_contact", T0))  # Monday 22:00
    assert fired and fired[0].evidence["local_time"] == "Mon 22:00"
    saturday_10 = T0 + 5 * 86400 - 12 * 3600
    assert rule.on_sensor(sensor("door_contact", saturday_10))  # closed on Saturdays


def test_night_window_across_midnight():
    spec = SensorAlarmSpec(id="quiet", allowed=[{"days": ["mon"], "start": "21:00", "end": "06:00"}], cooldown_s=0)
    rule = SensorAlarm(spec, timezone=TZ)
    assert rule.on_sensor(sensor("motion", T0)) == []  # Monday 22:00
    assert rule.on_sensor(sensor("motion", T0 + 7 * 3600)) == []  # Tuesday 05:00, same night
    assert rule.on_sensor(sensor("motion", T0 + 9 * 3600))  # Tuesday 07:00


def fence_rule(**kw):
    spec = dict(id="fence", sensor_kinds=["fence_vibration"], window_s=10, severity="high",
                unconfirmed_severity="medium", cooldown_s=30)
    return VideoConfirmed(VideoConfirmedSpec(**(spec | kw)))


def test_vibration_then_person_in_the_zone_is_high_at_once():
    rule = fence_rule()
    assert rule.on_sensor(sensor("fence_vibration", T0)) == []
    fired = [e for s in sightings_from_event(person_in_zone(T0 + 4)) for e in rule.on_sighting(s)]
    assert len(fired) == 1
    ev = fired[0]
    assert (ev.severity, ev.started_at, ev.camera_id, ev.zone) == ("high", T0, "plaza", "east")
    assert ev.evidence["confirmed"] is True and ev.evidence["video_delay_s"] == 4
    assert ev.objects[0].track_id == 7
    assert rule.tick(T0 + 11) == []  # already fired: no medium afterwards


def test_person_seen_just_before_the_vibration_confirms_too():
    rule = fence_rule()
    for s in sightings_from_event(person_in_zone(T0 - 6)):
        rule.on_sighting(s)
    fired = rule.on_sensor(sensor("fence_vibration", T0))
    assert [e.severity for e in fired] == ["high"] and fired[0].evidence["video_delay_s"] == -6


def test_unconfirmed_vibration_is_medium_when_the_window_closes():
    rule = fence_rule()
    rule.on_sensor(sensor("fence_vibration", T0))
    for s in sightings_from_event(person_in_zone(T0 + 3, zone="west")):  # another zone
        assert rule.on_sighting(s) == []
    for s in sightings_from_event(person_in_zone(T0 + 3, camera="gate")):  # another camera
        assert rule.on_sighting(s) == []
    assert rule.tick(T0 + 9) == []
    fired = rule.tick(T0 + 10.5)
    assert [(e.severity, e.evidence["confirmed"]) for e in fired] == [("medium", False)]
    for s in sightings_from_event(person_in_zone(T0 + 12)):  # too late
        assert rule.on_sighting(s) == []


def test_unconfirmed_can_be_silent():
    rule = fence_rule(unconfirmed_severity=None)
    rule.on_sensor(sensor("fence_vibration", T0))
    assert rule.tick(T0 + 20) == []


def test_a_vibrating_fence_is_one_alert_not_hundreds():
    rule = fence_rule()
    for i in range(50):
        assert rule.on_sensor(sensor("fence_vibration", T0 + i * 0.2)) == []
    fired = [e for s in sightings_from_event(person_in_zone(T0 + 5)) for e in rule.on_sighting(s)]
    assert len(fired) == 1 and fired[0].evidence["alarms"] == 50


def test_tracks_confirm_when_no_zone_is_configured():
    rule = fence_rule()
    ev = sensor("fence_vibration", T0, zone=None)
    rule.on_sensor(ev)
    car_and_person = Detections(np.array([[0, 0, 10, 10], [20, 20, 40, 90]]), np.array([0.8, 0.9]),
                                np.array([2, 0]), np.array([1, 2]))
    fired = [e for s in sightings_from_tracks("plaza", T0 + 2, car_and_person) for e in rule.on_sighting(s)]
    assert len(fired) == 1 and fired[0].objects[0].label == "person" and fired[0].objects[0].track_id == 2


def test_state_is_forgotten_after_the_windows():
    rule = fence_rule()
    for i in range(20):
        rule.on_sensor(sensor("fence_vibration", T0 + i, sid=f"s-{i}"))
        for s in sightings_from_event(person_in_zone(T0 + i, zone="elsewhere")):
            rule.on_sighting(s)
    assert rule.state_size() > 20
    rule.tick(T0 + 100)
    assert rule.state_size() == 0
