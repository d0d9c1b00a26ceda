"""Identity hand-over: a tracker id switch neither re-fires a rule nor restarts its timers, and
two different people are never merged (rules/slots.py, `RuleBase.handover`).

Scenes are built frame by frame at 10 fps with 20x40 px boxes (bottom centre = the point), so
the default `max_distance` of 0.75 box heights is 30 px.
"""

import pytest
from pydantic import TypeAdapter, ValidationError

from rules.config import RuleSpec
from rules.engine import RuleEngine
from tests.rules.conftest import norm, run, scene, still, walk

SQUARE = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]
LINE = [norm(200, 400), norm(600, 400)]  # horizontal, side A above (y < 400)


def engine(*rules: dict) -> RuleEngine:
    return RuleEngine("cam1", TypeAdapter(list[RuleSpec]).validate_python(list(rules)))


def zone(**kw) -> dict:
    return {"id": "z", "kind": "zone_intrusion", "polygon": SQUARE, "min_inside_s": 1.0,
            "cooldown_s": 60.0} | kw


def wire(**kw) -> dict:
    return {"id": "w", "kind": "tripwire", "line": LINE, "cooldown_s": 60.0} | kw


def switch(p_old, p_new, t_switch: float, gap: float, t_end: float):
    """One person as two tracker ids: id 1 until t_switch, id 2 from t_switch + gap."""
    return {1: lambda t: p_old(t) if t <= t_switch + 1e-9 else None,
            2: lambda t: p_new(t) if t >= t_switch + gap - 1e-9 else None}


def fired(events, rule="z"):
    return [(round(e.t, 1), e.track_id) for e in events if e.rule_id == rule]


def test_id_switch_inside_zone_does_not_refire():
    paths = switch(still((400, 400)), still((405, 402)), t_switch=3.0, gap=0.3, t_end=8)
    assert fired(run(engine(zone()), scene(paths, 8))) == [(1.0, 1)]
    # Without hand-over the new id is a new track and fires again: what the option prevents.
    off = zone(handover={"enabled": False})
    assert fired(run(engine(off), scene(paths, 8))) == [(1.0, 1), (4.3, 2)]


def test_id_switch_keeps_time_inside():
    # Walks in at t=0, switches id at 0.6 s (0.2 s unseen): fires at entry + 1 s, as id 2.
    p = walk((300, 300), (400, 400), 0, 3)
    paths = switch(p, p, t_switch=0.6, gap=0.2, t_end=3)
    assert fired(run(engine(zone()), scene(paths, 3))) == [(1.0, 2)]
    off = zone(handover={"enabled": False})
    assert fired(run(engine(off), scene(paths, 3))) == [(1.8, 2)]


def test_extrapolates_a_moving_track():
    # 100 px/s: in a 1 s gap the person moves 100 px (2.5 box heights), beyond the 30 px radius
    # around where it was lost but on the line it was heading along.
    p = walk((250, 300), (550, 300), 0, 3)
    paths = switch(p, p, t_switch=1.5, gap=1.0, t_end=3)
    assert fired(run(engine(zone()), scene(paths, 3))) == [(1.0, 1)]


def test_id_switch_after_crossing_gives_no_second_crossing():
    # Id 1 crosses downwards at ~1 s; the tracker re-numbers the person 0.2 s later and the new
    # id's first box sits back above the line (a re-detected box is often taller), then walks on
    # down: without hand-over that is a second a_to_b crossing.
    down = walk((400, 300), (400, 500), 0, 2)
    paths = switch(down, lambda t: (400, 390) if t < 1.45 else down(t), t_switch=1.1, gap=0.2,
                   t_end=2)
    events = run(engine(wire()), scene(paths, 2))
    assert [(e.evidence["direction"], e.track_id) for e in events] == [("a_to_b", 1)]
    off = run(engine(wire(handover={"enabled": False})), scene(paths, 2))
    assert [(e.evidence["direction"], e.track_id) for e in off] == [("a_to_b", 1), ("a_to_b", 2)]


def test_far_apart_people_are_not_merged():
    paths = {1: still((300, 300), 0, 2), 2: still((500, 500), 2.2, 5)}
    assert fired(run(engine(zone()), scene(paths, 5))) == [(1.0, 1), (3.2, 2)]


def test_new_person_after_the_gap_is_not_merged():
    paths = {1: still((300, 300), 0, 2), 2: still((300, 300), 3.7, 6)}  # 1.7 s > max_gap_s
    assert fired(run(engine(zone()), scene(paths, 6))) == [(1.0, 1), (4.7, 2)]


def test_other_class_is_not_merged():
    paths = {1: still((300, 300), 0, 2), 2: still((300, 300), 2.2, 5)}
    frames = scene(paths, 5, cls={2: "car"})
    assert fired(run(engine(zone(classes=["person", "car"])), frames)) == [(1.0, 1), (3.2, 2)]


def test_two_lost_candidates_is_ambiguous():
    # Ids 1 and 3 vanish 20 px apart; id 2 appears between them: no hand-over, it fires.
    paths = {1: still((300, 300), 0, 2), 3: still((320, 300), 0, 2), 2: still((310, 300), 2.2, 5)}
    assert fired(run(engine(zone()), scene(paths, 5))) == [(1.0, 1), (1.0, 3), (3.2, 2)]


def test_two_new_ids_for_one_lost_track_is_ambiguous():
    paths = {1: still((300, 300), 0, 2), 2: still((290, 300), 2.2, 5), 3: still((310, 300), 2.2, 5)}
    assert fired(run(engine(zone()), scene(paths, 5))) == [(1.0, 1), (3.2, 2), (3.2, 3)]


def test_visible_track_is_never_handed_over():
    # Id 1 stays in view; a second id appearing next to it (a second person) is a new track.
    paths = {1: still((300, 300)), 2: still((310, 300), 2.2, 5)}
    assert fired(run(engine(zone()), scene(paths, 5))) == [(1.0, 1), (3.2, 2)]


def test_per_rule_option_in_one_engine():
    paths = switch(still((400, 400)), still((400, 400)), t_switch=3.0, gap=0.3, t_end=6)
    eng = engine(zone(), zone(id="z-off", handover={"enabled": False}),
                 zone(id="z-tight", handover={"max_gap_s": 0.2}))
    events = run(eng, scene(paths, 6))
    assert fired(events, "z") == [(1.0, 1)]
    assert fired(events, "z-off") == [(1.0, 1), (4.3, 2)]
    assert fired(events, "z-tight") == [(1.0, 1), (4.3, 2)]  # the 0.3 s gap is beyond its limit


def test_chained_switches_keep_the_state():
    paths = {1: still((400, 400), 0, 2), 2: still((402, 400), 2.3, 4), 3: still((404, 400), 4.4, 7)}
    assert fired(run(engine(zone()), scene(paths, 7))) == [(1.0, 1)]


def test_hot_reload_keeps_handed_over_state():
    eng = engine(zone(), wire())
    frames = scene(switch(still((400, 400)), still((400, 400)), t_switch=3.0, gap=0.3, t_end=8), 8)
    before = [f for f in frames if f[0] < 2.0]
    after = [f for f in frames if f[0] >= 2.0]
    assert fired(run(eng, before)) == [(1.0, 1)]
    # Another rule changes (the tripwire moves): the zone's state is kept, and the id switch
    # that follows is still handed over.
    eng.replace(TypeAdapter(list[RuleSpec]).validate_python(
        [zone(), wire(line=[norm(200, 450), norm(600, 450)])]))
    assert fired(run(eng, after)) == []
    # Changing the zone itself starts it afresh (as before this feature): it fires for id 2.
    eng.replace(TypeAdapter(list[RuleSpec]).validate_python([zone(min_inside_s=0.5), wire()]))
    assert fired(run(eng, scene({2: still((400, 400))}, 9.5, t0=8.1))) == [(8.6, 2)]


def test_loitering_dwell_continues_across_a_switch():
    # Loitering pairs tracks itself (rejoin_radius); in the engine it keeps the dwell too.
    loiter = {"id": "l", "kind": "loitering", "polygon": SQUARE, "min_dwell_s": 5.0}
    paths = switch(still((400, 400)), still((405, 400)), t_switch=3.0, gap=0.5, t_end=8)
    assert fired(run(engine(loiter), scene(paths, 8)), "l") == [(5.0, 2)]


def test_option_is_validated():
    with pytest.raises(ValidationError, match="max_gap_s"):
        TypeAdapter(RuleSpec).validate_python(zone(handover={"max_gap_s": -1}))
    with pytest.raises(ValidationError, match="extra"):
        TypeAdapter(RuleSpec).validate_python(zone(handover={"radius": 1}))


def test_track_lost_at_the_edge_left_the_picture():
    # Someone walks out on the right (frame width 1000) and someone else walks in there.
    paths = {1: walk((300, 500), (995, 500), 0, 3), 2: walk((995, 500), (500, 500), 3.3, 6)}
    wide = zone(polygon=[norm(100, 300), norm(1000, 300), norm(1000, 700), norm(100, 700)])
    assert fired(run(engine(wide), scene(paths, 6))) == [(1.0, 1), (4.3, 2)]


def test_track_heading_out_of_the_picture_left_it():
    # Lost 50 px short of the edge, walking out at 200 px/s: by the time the new id appears (0.5 s
    # later, 10 px from where the old one was) it would have been out of the picture.
    paths = {1: walk((550, 500), (950, 500), 0, 2), 2: still((940, 500), 2.5, 5)}
    wide = zone(polygon=[norm(100, 300), norm(1000, 300), norm(1000, 700), norm(100, 700)])
    assert fired(run(engine(wide), scene(paths, 5))) == [(1.0, 1), (3.5, 2)]


def test_track_lost_in_a_group_is_not_handed_over():
    # Id 1 vanishes right beside id 3 (still in view): the new id 2 could be either person.
    paths = {1: still((300, 300), 0, 2), 3: still((320, 300)), 2: still((305, 300), 2.2, 5)}
    assert fired(run(engine(zone()), scene(paths, 5))) == [(1.0, 1), (1.0, 3), (3.2, 2)]


def test_old_id_coming_back_takes_its_state_back():
    # The tracker re-finds the person under the old id after a short spell as id 2.
    paths = {1: lambda t: (400, 400) if t <= 3.0 or t >= 4.0 else None,
             2: lambda t: (402, 400) if 3.2 <= t <= 3.8 else None}
    assert fired(run(engine(zone()), scene(paths, 7))) == [(1.0, 1)]


def test_old_id_coming_back_beside_the_new_one_makes_it_a_new_track():
    # Id 2 got id 1's state, then id 1 shows up again while id 2 is still there: two people.
    # Id 1 keeps its state (no second event); id 2 starts afresh and fires for itself.
    paths = {1: lambda t: (400, 400) if t <= 3.0 or t >= 4.0 else None,
             2: lambda t: (402, 400) if t >= 3.2 else None}
    assert fired(run(engine(zone()), scene(paths, 7))) == [(1.0, 1), (5.0, 2)]


def test_newcomer_split_off_a_taken_over_track_is_not_handed_over():
    # The tracker split id 2 off id 1's track (somebody else stepped into its place; its colours
    # and motion changed): same spot, short gap, so without being told the engine would hand
    # id 1's state (fired, cooldown) to id 2 and the newcomer's own entry would stay quiet.
    paths = switch(still((400, 400)), still((402, 400)), t_switch=3.0, gap=0.2, t_end=6)
    eng = engine(zone())
    events = []
    for t, dets in scene(paths, 6):
        split = {2} if abs(t - 3.2) < 1e-6 else set()  # the frame the split happened
        events.extend(eng.update(dets, t, (800, 600), newcomers=split))
    assert fired(events) == [(1.0, 1), (4.2, 2)]
    # The same frames without the tracker's word: handed over, as before.
    assert fired(run(engine(zone()), scene(paths, 6))) == [(1.0, 1)]
