"""Rule versioning: what a reload changed, and events naming the version that fired them."""

from pydantic import TypeAdapter

from rules.changes import diff_specs
from rules.config import RuleSpec
from rules.engine import RuleEngine
from tests.rules.conftest import norm, run, scene, still

SQUARE = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]


def specs(*raw):
    return TypeAdapter(list[RuleSpec]).validate_python(list(raw))


YARD = {"id": "yard", "kind": "zone_intrusion", "polygon": SQUARE, "min_inside_s": 0.0}
GATE = {"id": "gate", "kind": "tripwire", "line": [norm(700, 100), norm(700, 700)]}
LOT = {"id": "lot", "kind": "stationary", "polygon": SQUARE}


def test_replace_reports_added_removed_changed():
    engine = RuleEngine("cam1", specs(YARD, GATE))
    assert engine.last_changes.added == ("yard", "gate")
    changes = engine.replace(specs({**YARD, "min_inside_s": 2.0, "version": 2}, LOT))
    assert changes.added == ("lot",) and changes.removed == ("gate",)
    assert changes.changed == ("yard",) and changes.versions == (("yard", 1, 2),)
    assert changes.unbumped == ()
    assert changes.summary() == "added ['lot']; removed ['gate']; changed [yard v1->v2]"
    assert engine.last_changes is changes


def test_unchanged_reload_is_empty_and_unbumped_change_is_flagged():
    engine = RuleEngine("cam1", specs(YARD, GATE))
    none = engine.replace(specs(YARD, GATE))
    assert not none and none.summary() == "no rule changes"
    moved = engine.replace(specs(YARD, {**GATE, "direction": "a_to_b"}))
    assert moved.changed == ("gate",) and moved.unbumped == ("gate",)
    assert "version not bumped: ['gate']" in moved.summary()


def test_disabling_is_a_change_and_events_carry_the_version():
    engine = RuleEngine("cam1", specs({**YARD, "version": 3}))
    events = run(engine, scene({1: still((300, 300))}, 0.2))
    assert [e.rule_version for e in events] == [3]
    changes = engine.replace(specs({**YARD, "version": 4, "enabled": False}))
    assert changes.changed == ("yard",) and engine.rules == []


def test_diff_specs_alone():
    old, new = specs(YARD), specs(YARD, GATE)
    assert diff_specs(old, new).added == ("gate",) and not diff_specs(new, new)
