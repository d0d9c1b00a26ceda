"""Scoring a replay against labels: one-to-one matching by window, kind and direction."""

from __future__ import annotations

import pytest

from ingest.workbench.fence_events import FenceEvent
from ingest.workbench.labels import ExpectedEvent
from ingest.workbench.scoring import score


def lab(rule, kind, window, at=None, direction=None, track=None):
    return ExpectedEvent(rule=rule, kind=kind, window=window, at=at, direction=direction, track=track)


def ev(rule, kind, t, track=1, direction=None):
    return FenceEvent(rule, kind, t, track, direction)


def test_known_tp_fp_fn_and_timing_error():
    labels = [
        lab("line", "crossing", (9, 11), at=10.0, direction="a_to_b"),
        lab("line", "crossing", (19, 21), at=20.0, direction="a_to_b"),
        lab("line", "crossing", (30, 32), at=31.0),  # either direction
        lab("zone", "entry", (40, 44), at=41.0),
        lab("zone", "entry", (50, 52)),  # nothing fires: FN
    ]
    events = [
        ev("line", "tripwire", 10.5, direction="a_to_b"),  # TP, 0.5 s late
        ev("line", "tripwire", 20.0, direction="b_to_a"),  # wrong direction: FP, and label 2 is FN
        ev("line", "tripwire", 30.8, direction="b_to_a"),  # TP, 0.2 s early
        ev("zone", "zone_intrusion", 42.0),  # TP, 1.0 s late
        ev("zone", "zone_intrusion", 42.5, track=2),  # second event for one label: FP
        ev("zone", "zone_intrusion", 70.0),  # outside every window: FP
    ]
    s = score(labels, events)
    line, zone = s.rules["line"], s.rules["zone"]
    assert (line.tp, line.fp, line.fn) == (2, 1, 1)
    assert (zone.tp, zone.fp, zone.fn) == (1, 2, 1)
    assert line.precision == pytest.approx(2 / 3) and line.recall == pytest.approx(2 / 3)
    assert zone.precision == pytest.approx(1 / 3) and zone.recall == pytest.approx(1 / 2)
    assert zone.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert line.mean_timing_error == pytest.approx(0.35) and line.max_timing_error == pytest.approx(0.5)
    assert zone.mean_timing_error == pytest.approx(1.0)
    assert (s.total.tp, s.total.fp, s.total.fn) == (3, 3, 2)
    assert s.total.max_timing_error == pytest.approx(1.0)
    assert {l.window for l in s.false_negatives} == {(19, 21), (50, 52)}
    # The closer of the two zone events is the match.
    assert [e.t for l, e in s.matches if l.rule == "zone"] == [42.0]


def test_matching_is_one_to_one_and_maximal():
    # Closest-first greedy would give event 5.0 to the wide label and leave the narrow one
    # unmatched; the optimal assignment matches both.
    labels = [lab("z", "entry", (0, 10), at=5.0), lab("z", "entry", (4, 6), at=5.5)]
    s = score(labels, [ev("z", "zone_intrusion", 5.0), ev("z", "zone_intrusion", 8.0)])
    assert (s.rules["z"].tp, s.rules["z"].fp, s.rules["z"].fn) == (2, 0, 0)
    assert sorted(s.rules["z"].timing_errors) == pytest.approx([0.5, 3.0])


def test_kind_must_match_and_track_hint_breaks_ties():
    labels = [lab("r", "entry", (0, 4), at=2.0, track=7)]
    assert score(labels, [ev("r", "tripwire", 2.0, direction="a_to_b")]).rules["r"].tp == 0
    s = score(labels, [ev("r", "zone_intrusion", 1.0, track=3), ev("r", "zone_intrusion", 3.0, track=7)])
    assert [e.track_id for _, e in s.matches] == [7]


def test_no_labels_and_no_events_is_perfect_and_empty_rule_counts_fp():
    assert score([], []).total.f1 == 1.0
    s = score([], [ev("x", "zone_intrusion", 1.0)])
    assert (s.rules["x"].fp, s.rules["x"].precision, s.rules["x"].recall) == (1, 0.0, 1.0)
