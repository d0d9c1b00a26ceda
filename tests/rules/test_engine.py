from pydantic import TypeAdapter

from rules.config import RuleSpec
from rules.engine import RuleEngine
from tests.rules.conftest import FRAME, batch, norm, run, scene, still, walk

SPECS = TypeAdapter(list[RuleSpec]).validate_python(
    [
        {
            "id": "yard",
            "kind": "zone_intrusion",
            "polygon": [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)],
            "min_inside_s": 1.0,
        },
        {"id": "gate", "kind": "tripwire", "line": [norm(700, 100), norm(700, 700)]},
        {"id": "off", "kind": "tripwire", "line": [norm(0, 0), norm(1000, 0)], "enabled": False},
    ]
)


def test_builds_lazily_and_runs_enabled_rules():
    engine = RuleEngine("cam1", SPECS)
    assert engine.rules == []
    events = run(engine, scene({1: still((300, 300)), 2: walk((650, 400), (750, 400), 0, 1)}, 2))
    assert sorted((e.rule_id, e.track_id) for e in events) == [("gate", 2), ("yard", 1)]
    assert [r.id for r in engine.rules] == ["yard", "gate"]
    assert engine.rules[0].frame_size == FRAME


def test_hot_reload_keeps_state_of_unchanged_rules():
    engine = RuleEngine("cam1", SPECS)
    run(engine, scene({1: still((300, 300))}, 0.5))  # 0.5 s into the 1 s dwell
    yard_before = engine.rules[0]
    gate_before = engine.rules[1]
    moved_line = [norm(800, 100), norm(800, 700)]
    moved_gate = SPECS[1].model_copy(update={"line": moved_line, "version": 2})
    engine.replace([SPECS[0], moved_gate])
    assert engine.rules[0] is yard_before  # unchanged: same object, same state
    assert engine.rules[1] is not gate_before and engine.rules[1].spec.version == 2
    # The dwell continues across the reload: fires at t=1.0, not 1.0 s after the reload.
    events = run(engine, scene({1: still((300, 300))}, 1.5, t0=0.6))
    assert [(e.rule_id, round(e.t, 3)) for e in events] == [("yard", 1.0)]


def test_hot_reload_drops_removed_and_changed_state():
    engine = RuleEngine("cam1", SPECS)
    run(engine, scene({1: still((300, 300))}, 0.5))
    assert engine.state_size() == 2  # one track in each of two rules
    longer = SPECS[0].model_copy(update={"min_inside_s": 5.0})
    engine.replace([longer])
    assert [r.id for r in engine.rules] == ["yard"] and engine.state_size() == 0
    events = run(engine, scene({1: still((300, 300))}, 7, t0=0.6))
    assert [round(e.t, 3) for e in events] == [5.6]


def test_frame_size_change_rebuilds():
    engine = RuleEngine("cam1", SPECS)
    run(engine, scene({1: still((300, 300))}, 0.2))
    first = engine.rules[0]
    engine.update(scene({}, 0)[0][1], 0.3, (500, 400))
    assert engine.rules[0] is not first and engine.rules[0].frame_size == (500, 400)


def test_state_stays_bounded_over_many_tracks():
    engine = RuleEngine("cam1", SPECS)  # forget_after_s = 10 s
    peak = 0
    # 24/7 in miniature: a new track every 0.5 s, each walking through both fences for 2 s.
    fps, lifetime, every = 5, 2.0, 0.5
    for f in range(int(300 * fps)):
        t = f / fps
        alive = [k for k in range(int(t / every) - 4, int(t / every) + 1) if k >= 0
                 and k * every <= t <= k * every + lifetime]
        path = {k: walk((250, 250), (750, 450), k * every, k * every + lifetime) for k in alive}
        engine.update(batch({k: p(t) for k, p in path.items()}), t, FRAME)
        peak = max(peak, engine.state_size())
    # Two rules, each remembering tracks seen within the last forget_after_s (+ one lifetime).
    assert peak > 2 * 10 / every - 4  # (the expiry really is what bounds it)
    assert peak <= 2 * (10 + lifetime) / every + 2
    for t in (310.0, 311.0):
        engine.update(batch({}), t, FRAME)
    assert engine.state_size() == 0


def test_every_spec_kind_has_an_implementation():
    from rules.config import RULE_KIND_NAMES
    from rules.engine import RULE_KINDS

    assert set(RULE_KINDS) == set(RULE_KIND_NAMES)
    assert all(RULE_KINDS[k].kind == k for k in RULE_KINDS)
