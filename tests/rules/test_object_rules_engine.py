"""abandoned_object, object_removed and geofence inside the RuleEngine: hot reload keeps the
state of unchanged rules, schedules gate and forget it, events carry the version."""

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from rules.config import RuleSpec
from rules.engine import RuleEngine, needs_ground
from tests.rules.conftest import FRAME, norm, still
from tests.rules.test_abandoned import BAG_AT, frames
from tests.rules.test_geofence import MAPPER, NORTH_HALF, NORTH_PX

BAG = {"id": "bag", "kind": "abandoned_object", "min_static_s": 10.0, "unattended_s": 0.0}
GONE = {"id": "gone", "kind": "object_removed", "min_static_s": 5.0, "gone_s": 3.0}
YARD = {"id": "yard", "kind": "zone_intrusion", "min_inside_s": 1.0,
        "polygon": [norm(600, 100), norm(900, 100), norm(900, 300)]}
NORTH = {"id": "north", "kind": "geofence", "polygons": [NORTH_HALF], "trigger": "inside",
         "min_inside_s": 10.0}


def specs(*raw):
    return TypeAdapter(list[RuleSpec]).validate_python(list(raw))


def drive(engine, fr, ground=None):
    out = []
    for t, dets in fr:
        out.extend(engine.update(dets, t, FRAME, ground=ground))
    return out


def test_hot_reload_keeps_spots_of_unchanged_rules():
    engine = RuleEngine("cam1", specs(BAG, GONE, YARD))
    assert drive(engine, frames({2: still(BAG_AT)}, 6)) == []
    bag_rule, gone_rule = engine.rules[0], engine.rules[1]
    assert bag_rule.state_size() == 1 and gone_rule.state_size() == 1
    changes = engine.replace(specs(BAG, GONE, {**YARD, "min_inside_s": 3.0, "version": 2}))
    assert changes.changed == ("yard",)
    assert engine.rules[0] is bag_rule and engine.rules[1] is gone_rule
    # The bag's 10 s count on from 0 s across the reload, and its removal is still seen.
    events = drive(engine, frames({2: still(BAG_AT, 0, 12)}, 20, t0=6.1))
    assert [(e.rule_id, e.t, e.started_at) for e in events] == [("bag", 10.0, 0.0), ("gone", 15.0, 12.0)]


def test_changed_rule_starts_over_and_events_carry_the_new_version():
    engine = RuleEngine("cam1", specs(BAG))
    drive(engine, frames({2: still(BAG_AT)}, 6))
    engine.replace(specs({**BAG, "min_static_s": 8.0, "version": 2}))
    events = drive(engine, frames({2: still(BAG_AT)}, 20, t0=6.1))
    assert [(e.t, e.started_at, e.rule_version) for e in events] == [(14.1, 6.1, 2)]


def test_hot_reload_keeps_geofence_state():
    engine = RuleEngine("cam1", specs(NORTH, YARD))
    ground = MAPPER.image_to_geo
    drive(engine, frames({1: still(NORTH_PX)}, 6, bags=()), ground)
    fence = engine.rules[0]
    engine.replace(specs(NORTH, {**YARD, "enabled": False}))
    assert engine.rules[0] is fence
    events = drive(engine, frames({1: still(NORTH_PX)}, 12, t0=6.1, bags=()), ground)
    assert [(e.rule_id, e.t, e.started_at) for e in events] == [("north", 10.0, 0.0)]
    assert needs_ground(engine.specs[0]) and not needs_ground(specs(YARD)[0])


def test_schedule_gates_the_rule_and_switching_off_forgets_its_spots():
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 11, 23, 21, 59, 50, tzinfo=berlin).timestamp()
    night = {**BAG, "schedule": {"hours": ["22:00-06:00"]}, "cooldown_s": 3600.0}
    engine = RuleEngine("cam1", specs(night), timezone="Europe/Berlin", clock_origin=start)
    # Left at 21:59:50: the 10 s before 22:00 do not count, so it fires at 22:00:10.
    events = drive(engine, frames({2: still(BAG_AT)}, 30))
    assert [e.t for e in events] == [20.0] and [e.started_at for e in events] == [10.0]
    # 06:00 the rule switches off and forgets the bag; the next night it fires again (a new
    # rule object: the cooldown of the old one went with its state).
    morning = datetime(2026, 11, 24, 5, 59, 55, tzinfo=berlin).timestamp() - start
    assert drive(engine, frames({2: still(BAG_AT)}, morning + 10, t0=morning)) == []
    assert engine.state_size() == 0
    evening = datetime(2026, 11, 24, 22, 0, 0, tzinfo=berlin).timestamp() - start
    events = drive(engine, frames({2: still(BAG_AT)}, evening + 12, t0=evening, fps=2))
    assert [round(e.t - evening, 1) for e in events] == [10.0]
