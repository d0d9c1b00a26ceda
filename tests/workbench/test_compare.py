"""Comparing two rule versions: events are the same when rule, track and time (± tolerance) agree."""

from __future__ import annotations

from ingest.workbench.compare import compare_events, markdown
from ingest.workbench.fence_events import FenceEvent


def ev(rule, t, track=1):
    return FenceEvent(rule, "tripwire", t, track, "a_to_b")


def test_matching_by_rule_track_and_tolerance():
    old = [ev("a", 10.0), ev("a", 20.0), ev("b", 5.0), ev("a", 30.0, track=2)]
    new = [ev("a", 10.8), ev("a", 22.0), ev("c", 5.0), ev("a", 30.0, track=3)]
    cmp = compare_events(old, new, tolerance_s=1.0)
    assert len(cmp.kept) == 1 and cmp.kept[0][0].t == 10.0
    assert {(e.rule_id, e.t, e.track_id) for e in cmp.disappeared} == {("a", 20.0, 1), ("b", 5.0, 1), ("a", 30.0, 2)}
    assert {(e.rule_id, e.t, e.track_id) for e in cmp.appeared} == {("a", 22.0, 1), ("c", 5.0, 1), ("a", 30.0, 3)}
    assert cmp.per_rule()["b"] == {"old": 1, "new": 0, "appeared": 0, "disappeared": 1}
    assert "| disappeared | b |" in markdown(cmp)


def test_one_to_one_closest_first():
    cmp = compare_events([ev("a", 10.0), ev("a", 10.9)], [ev("a", 10.8)], tolerance_s=1.0)
    assert [(o.t, n.t) for o, n in cmp.kept] == [(10.9, 10.8)]
    assert [e.t for e in cmp.disappeared] == [10.0]


def test_identical_versions_change_nothing():
    events = [ev("a", 1.0), ev("b", 2.0, track=4)]
    cmp = compare_events(events, list(events))
    assert not cmp.appeared and not cmp.disappeared and len(cmp.kept) == 2
