"""object_removed: frame-by-frame scenarios (taken while hidden, carried off in view, occlusion,
the object coming back, require_person_s, too short a stay, cooldown)."""

import pytest
from pydantic import ValidationError

from rules.config import ObjectRemovedSpec
from rules.object_removed import ObjectRemoved
from tests.rules.conftest import FRAME, run, still, walk
from tests.rules.test_abandoned import BAG_AT, frames, seq


def make(**kw) -> ObjectRemoved:
    kw = {"min_static_s": 10.0, "gone_s": 5.0, **kw}
    return ObjectRemoved(ObjectRemovedSpec(id="exhibit", kind="object_removed", **kw), "cam1", FRAME)


def test_taken_while_hidden_by_the_taker():
    rule = make()
    # The bag stands from 0 s; someone walks up at 18-20 s, hides it, and leaves at 22-25 s
    # carrying it (the detector no longer sees it).
    taker = seq((18, walk((900, 500), (420, 500), 18, 20)), (20, still((420, 500))),
                (22, walk((420, 500), (900, 300), 22, 25)), (25.01, lambda t: None))
    events = run(rule, frames({1: taker, 2: still(BAG_AT, 0, 20)}, 40))
    assert len(events) == 1
    ev = events[0]
    assert ev.rule_kind == "object_removed" and ev.track_id == 2 and ev.objects[0].label == "suitcase"
    assert ev.started_at == pytest.approx(20.0) and ev.t == pytest.approx(25.0)
    assert ev.evidence["static_s"] == pytest.approx(20.0) and ev.evidence["gone_s"] == pytest.approx(5.0)
    assert ev.evidence["person_near_s_before"] == 0.0
    assert ev.objects[0].point == BAG_AT  # where it stood, not where the track went


def test_carried_off_in_view():
    rule = make()
    bag = seq((0, still(BAG_AT)), (30, walk(BAG_AT, (900, 200), 30, 32)))
    events = run(rule, frames({2: bag}, 45))
    # The track lives on, but its spot is empty from 30.1 s (a 29 px step leaves the radius).
    assert [(round(e.started_at, 1), round(e.t, 1)) for e in events] == [(30.0, 35.0)]


def test_occlusion_shorter_than_gone_s_and_reappearing_under_a_new_id_is_quiet():
    rule = make()
    van = walk((100, 480), (900, 480), 14, 20)
    bag = {2: still(BAG_AT, 0, 15), 6: still((404, 497), 19), 3: van}  # hidden 15-19 s
    assert run(rule, frames(bag, 60, bags=(2, 6), cls={3: "bus"})) == []


def test_object_of_another_class_in_the_spot_does_not_hide_the_removal():
    rule = make(classes=["suitcase", "backpack"])
    paths = {2: still(BAG_AT, 0, 20), 4: still(BAG_AT, 21)}
    events = run(rule, frames(paths, 40, cls={4: "backpack"}))
    assert [round(e.t, 1) for e in events] == [25.0]


def test_require_person_s():
    # Vanishes with nobody near: a lost detection, not a theft.
    assert run(make(require_person_s=3.0), frames({2: still(BAG_AT, 0, 20)}, 40)) == []
    # Someone stood by it until 2 s before it vanished.
    visitor = still((430, 520), 10, 18)
    events = run(make(require_person_s=3.0), frames({1: visitor, 2: still(BAG_AT, 0, 20)}, 40))
    assert len(events) == 1 and events[0].evidence["person_near_s_before"] == pytest.approx(2.0)
    events = run(make(require_person_s=1.0), frames({1: visitor, 2: still(BAG_AT, 0, 20)}, 40))
    assert events == []


def test_not_static_long_enough_or_moving_never_fires():
    assert run(make(), frames({2: still(BAG_AT, 0, 8)}, 30)) == []
    assert run(make(), frames({2: walk((100, 300), (900, 300), 0, 30)}, 40)) == []
    # A person standing still and leaving is not an object of the rule.
    assert run(make(), frames({1: still(BAG_AT, 0, 20)}, 40)) == []


def test_cooldown_is_per_object():
    bag = seq((0, still(BAG_AT)), (15, walk(BAG_AT, (700, 300), 15, 16)), (16, still((700, 300))),
              (35, walk((700, 300), (900, 100), 35, 36)))
    events = run(make(cooldown_s=0.0), frames({2: bag}, 50))
    assert [round(e.started_at, 1) for e in events] == [15.0, 35.0]
    events = run(make(cooldown_s=60.0), frames({2: bag}, 50))
    assert [round(e.started_at, 1) for e in events] == [15.0]


def test_state_is_bounded():
    rule = make(min_static_s=2.0, forget_after_s=8.0)
    for k in range(100):  # a bag every 4 s, standing 3 s, then gone: each is a removal
        t0 = 4.0 * k
        for t, dets in frames({k: still((100 + 50 * (k % 16), 500), t0, t0 + 3)}, t0 + 3.9, t0=t0, bags=(k,)):
            rule.update(dets, t)
        assert rule.state_size() <= 3
    assert rule.state_size() >= 1


def test_gone_s_must_be_below_forget_after_s():
    with pytest.raises(ValidationError, match="forget_after_s"):
        ObjectRemovedSpec(id="x", kind="object_removed", gone_s=40)
    with pytest.raises(ValidationError, match="an object cannot attend itself"):
        ObjectRemovedSpec(id="x", kind="object_removed", classes=["person"])
