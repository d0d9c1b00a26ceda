"""Worker-side alert lifecycle: one alert per condition, updated while it lasts, ended after."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from alerts.model import Alert, AlertObject, RuleRef, Source, make_alert_id
from detectors.detections import Detections
from alerts.lifecycle import LifecycleConfig
from ingest.lifecycle import AlertLifecycle

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def fired(t: float, *tracks: int, rule: str = "loiter") -> Alert:
    at = T0 + timedelta(seconds=t)
    return Alert(
        alert_id=make_alert_id("s", "cam", rule, tracks[0] if tracks else -1, t), site="s",
        source=Source(kind="camera", id="cam"), rule=RuleRef(id=rule, kind="loitering", severity="medium"),
        started_at=at, observed_at=at, emitted_at=at,
        objects=[AlertObject(track_id=i, label="person", confidence=0.9, bbox=(0, 0, 10, 20)) for i in tracks],
    )


def tracks(*ids: int, x: float = 0.0) -> Detections:
    n = len(ids)
    xyxy = np.array([[x, 0, x + 10, 20]] * n, np.float32).reshape(-1, 4)
    return Detections(xyxy, np.full(n, 0.8), np.zeros(n), np.array(ids, np.int64))


def test_a_refire_of_the_same_condition_is_an_update_of_the_first_alert():
    lc = AlertLifecycle(LifecycleConfig(update_every_s=100, end_after_s=5))
    first = fired(0.0, 7)
    assert lc.process([first], tracks(7), 0.0) == [first]
    [again] = lc.process([fired(30.0, 7)], tracks(7), 30.0)
    assert (again.alert_id, again.lifecycle, again.sequence) == (first.alert_id, "update", 1)
    assert again.evidence["refires"] == 1
    assert again.observed_at == T0 + timedelta(seconds=30)


def test_an_open_alert_is_refreshed_with_current_boxes_and_ended_when_its_track_is_gone():
    lc = AlertLifecycle(LifecycleConfig(update_every_s=10, end_after_s=5))
    first = fired(0.0, 7)
    lc.process([first], tracks(7), 0.0)
    assert lc.process([], tracks(7, x=5), 5.0) == []  # not due yet
    [update] = lc.process([], tracks(7, x=40), 10.0)
    assert update.lifecycle == "update" and update.objects[0].bbox == (40.0, 0.0, 50.0, 20.0)
    assert update.observed_at == T0 + timedelta(seconds=10)
    assert lc.process([], tracks(3), 12.0) == []  # gone for 2 s: not yet
    [end] = lc.process([], tracks(3), 15.5)
    assert (end.lifecycle, end.sequence, end.alert_id) == ("end", 2, first.alert_id)
    assert end.ended_at == T0 + timedelta(seconds=10)  # when the track was last seen
    assert lc.open == {}
    # The same person fires again later: a new alert, not an update of the ended one.
    [new] = lc.process([fired(40.0, 7)], tracks(7), 40.0)
    assert new.lifecycle == "start" and new.alert_id != first.alert_id


def test_different_tracks_or_rules_are_different_alerts():
    lc = AlertLifecycle(LifecycleConfig(update_every_s=100))
    out = lc.process([fired(0.0, 1), fired(0.0, 2), fired(0.0, 1, rule="other")], tracks(1, 2), 0.0)
    assert [a.lifecycle for a in out] == ["start"] * 3 and len({a.alert_id for a in out}) == 3


def test_a_long_condition_ends_at_max_open_and_close_all_ends_the_rest():
    lc = AlertLifecycle(LifecycleConfig(update_every_s=1000, end_after_s=5, max_open_s=60))
    lc.process([fired(0.0, 1), fired(0.0, 2, rule="b")], tracks(1, 2), 0.0)
    out = lc.process([], tracks(1, 2), 61.0)
    assert sorted(a.lifecycle for a in out) == ["end", "end"]
    lc.process([fired(62.0, 1)], tracks(1), 62.0)
    [end] = lc.close_all(63.0)
    assert end.lifecycle == "end"


def test_instant_kinds_are_single_messages():
    lc = AlertLifecycle(LifecycleConfig(update_every_s=1, end_after_s=1))
    crossing = fired(0.0, 7).model_copy(update={"rule": RuleRef(id="line", kind="tripwire", severity="high")})
    assert lc.process([crossing], tracks(7), 0.0) == [crossing]
    assert lc.process([], tracks(7), 5.0) == [] and lc.process([], tracks(), 10.0) == [] and lc.open == {}


def test_disabled_passes_firings_through():
    lc = AlertLifecycle(LifecycleConfig(enabled=False))
    a, b = fired(0.0, 1), fired(30.0, 1)
    assert lc.process([a], tracks(1), 0.0) == [a] and lc.process([b], tracks(1), 30.0) == [b]
