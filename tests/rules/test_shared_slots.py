"""The engine's shared track table and frame views give exactly what each rule gives alone."""

import numpy as np
import pytest
from pydantic import TypeAdapter

from detectors.detections import Detections
from rules.config import RuleSpec
from rules.engine import RuleEngine, build_rule
from rules.slots import TrackTable
from tests.rules.conftest import FRAME, norm

SQUARE = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]
COMMON = {"forget_after_s": 1.0, "cooldown_s": 2.0}
SPECS = TypeAdapter(list[RuleSpec]).validate_python(
    [
        {"id": "z", "kind": "zone_intrusion", "polygon": SQUARE, "min_inside_s": 0.5, **COMMON},
        {"id": "zc", "kind": "zone_intrusion", "polygon": SQUARE, "classes": ["car"],
         "min_confidence": 0.6, "anchor": "center", **COMMON},
        {"id": "w", "kind": "tripwire", "line": [norm(100, 100), norm(500, 450), norm(900, 300)],
         **COMMON},
        {"id": "in", "kind": "zone_entrance", "polygon": SQUARE, "min_persist_s": 0.2, **COMMON},
        {"id": "out", "kind": "zone_exit", "polygon": SQUARE, "min_persist_s": 0.2, **COMMON},
        {"id": "st", "kind": "stationary", "polygon": SQUARE, "classes": ["person", "car"],
         "min_stationary_s": 1.0, "tolerance_radius": 0.02, **COMMON},
        {"id": "fast", "kind": "fast_moving", "min_speed": 150.0, "window_s": 0.5, **COMMON},
        {"id": "loiter", "kind": "loitering", "polygon": SQUARE, "min_dwell_s": 1.0,
         "max_gap_s": 0.5, **COMMON},
        # Several rules of one kind and selection are stepped as one batch by the engine.
        {"id": "z2", "kind": "zone_intrusion", "polygon": [norm(500, 100), norm(900, 150),
         norm(700, 700)], "min_inside_s": 0.0, "exit_grace_s": 0.0, **COMMON},
        {"id": "z3", "kind": "zone_intrusion", "polygon": SQUARE, "min_inside_s": 1.5,
         "forget_after_s": 3.0, "cooldown_s": 0.0},
        {"id": "w2", "kind": "tripwire", "line": [norm(300, 100), norm(800, 600), norm(300, 750)],
         "direction": "a_to_b", **COMMON},
        {"id": "w3", "kind": "tripwire", "line": [norm(150, 700), norm(950, 50), norm(980, 700)],
         "direction": "b_to_a", "min_offset_px": 10.0, "cooldown_s": 0.0},
        {"id": "w4", "kind": "tripwire", "line": [norm(0, 400), norm(1000, 420)], **COMMON},
        {"id": "w5", "kind": "tripwire", "line": [norm(500, 0), norm(520, 800)],
         "min_offset_px": 0.0, **COMMON},
        {"id": "in2", "kind": "zone_entrance", "polygon": [norm(500, 100), norm(900, 150),
         norm(700, 700)], "min_persist_s": 0.0, **COMMON},
    ]
)


def churning_scene(frames: int = 300, seed: int = 3, at_once: int = 40):
    """`at_once` tracks random-walking; each lives 1-4 s, so ids churn (> 256 in all)."""
    rng = np.random.default_rng(seed)
    next_id, alive, out = 0, {}, []
    for k in range(frames):
        t = k / 10
        for tid in [i for i, a in alive.items() if a["until"] < t]:
            del alive[tid]
        while len(alive) < at_once:
            alive[next_id] = {"p": rng.uniform([0, 0], FRAME), "v": rng.normal(0, 80, 2),
                              "until": t + rng.uniform(1, 4), "car": rng.random() < 0.3}
            next_id += 1
        ids = [i for i in alive if rng.random() > 0.1]  # some missed detections
        for a in alive.values():
            a["v"] += rng.normal(0, 40, 2) * (rng.random() < 0.5)
            a["p"] = np.clip(a["p"] + a["v"] / 10, 0, FRAME)
        xy = np.array([alive[i]["p"] for i in ids]).reshape(-1, 2)
        xyxy = np.column_stack([xy[:, 0] - 10, xy[:, 1] - 40, xy[:, 0] + 10, xy[:, 1]])
        conf = rng.uniform(0.4, 1.0, len(ids))
        cls = [2 if alive[i]["car"] else 0 for i in ids]
        out.append((t, Detections(xyxy, conf, np.array(cls), np.array(ids))))
    return out, next_id


def key(e):
    return (e.rule_id, round(e.t, 6), e.track_id, round(e.started_at, 6), str(e.evidence))


@pytest.mark.parametrize("at_once", [40, 300])
def test_engine_matches_rules_run_alone_with_id_churn(at_once):
    frames, n_ids = churning_scene(frames=180 if at_once == 40 else 40, at_once=at_once)
    assert n_ids > 256  # more ids than the table's first capacity: slots are reused or added
    engine = RuleEngine("cam1", SPECS)
    alone = [build_rule(s, "cam1", FRAME) for s in SPECS]
    together, separate = [], []
    for t, dets in frames:
        together += [key(e) for e in engine.update(dets, t, FRAME)]
        for rule in alone:
            separate += [key(e) for e in rule.update(dets, t)]
    assert sorted(together) == sorted(separate) and len(together) > 100
    if at_once == 40:
        assert {k[0] for k in together} == {s.id for s in SPECS}  # every rule fired
        assert engine._table.capacity <= 256  # churn reused expired slots instead of growing
    else:
        assert engine._table.capacity > 256  # the table and the batched states grew


def test_track_table_reuses_expired_slots_with_a_new_generation():
    table = TrackTable(forget_after_s=1.0, capacity=2)
    a = table.lookup(np.array([10, 11]), 0.0)
    gen = table.gen[a].copy()
    b = table.lookup(np.array([12]), 5.0)  # 10 and 11 expired: 12 takes one of their slots
    assert table.capacity == 2 and b[0] in a
    assert table.gen[b[0]] == gen[list(a).index(b[0])] + 1
    c = table.lookup(np.array([12, 13, 14]), 5.5)  # more live tracks than slots: grows
    assert c[0] == b[0] and len(set(c.tolist())) == 3 and table.capacity >= 3


def test_hot_reload_inside_a_batch_keeps_the_unchanged_rules_state():
    from tests.rules.conftest import run, scene, still

    a = {"id": "a", "kind": "zone_intrusion", "polygon": SQUARE, "min_inside_s": 1.0}
    b = {**a, "id": "b"}
    engine = RuleEngine("cam1", TypeAdapter(list[RuleSpec]).validate_python([a, b]))
    run(engine, scene({1: still((300, 300))}, 0.5))  # both rules 0.5 s into the dwell
    engine.replace(TypeAdapter(list[RuleSpec]).validate_python([a, {**b, "min_inside_s": 2.0}]))
    events = run(engine, scene({1: still((300, 300))}, 3, t0=0.6))
    # a keeps its timer (fires at 1.0); b restarted at 0.6 and needs 2 s.
    assert [(e.rule_id, round(e.t, 3)) for e in events] == [("a", 1.0), ("b", 2.6)]
