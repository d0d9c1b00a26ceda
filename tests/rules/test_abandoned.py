"""abandoned_object: frame-by-frame scenarios (owner leaving or staying, occlusions, id switches,
the object moved, zone, cooldown, bounded state)."""

import numpy as np
import pytest

from detectors.detections import Detections
from detectors.labels import class_id
from rules.abandoned import AbandonedObject
from rules.config import AbandonedObjectSpec
from tests.rules.conftest import FRAME, norm, run, scene, still, walk

HALL = [norm(100, 100), norm(900, 100), norm(900, 700), norm(100, 700)]
BAG_AT = (400, 500)


def make(**kw) -> AbandonedObject:
    kw = {"min_static_s": 10.0, "unattended_s": 5.0, **kw}
    return AbandonedObject(AbandonedObjectSpec(id="left-bag", kind="abandoned_object", **kw), "cam1", FRAME)


def frames(paths, t_end, bags=(2,), t0=0.0, **kw):
    """Tracks of `paths`; ids in `bags` are suitcases, others people (or `cls` overrides)."""
    cls = {k: "suitcase" if k in bags else "person" for k in paths} | kw.pop("cls", {})
    return scene(paths, t_end, t0=t0, cls=cls, **kw)


def seq(*parts):
    """A path made of (t_from, path) pieces: each piece runs until the next one starts."""

    def at(t):
        current = None
        for start, path in parts:
            if t >= start - 1e-9:
                current = path
        return None if current is None else current(t)

    return at


def test_owner_walks_away_fires_once_when_both_timers_are_met():
    rule = make()
    owner = seq((0, walk((100, 500), (400, 500), 0, 3)), (3, still((420, 500))),
                (5, walk((420, 500), (900, 500), 5, 8)), (8.01, lambda t: None))
    bag = seq((0, walk((100, 500), BAG_AT, 0, 3)), (3, still(BAG_AT)))
    events = run(rule, frames({1: owner, 2: bag}, 40))
    assert len(events) == 1
    ev = events[0]
    assert ev.rule_kind == "abandoned_object" and ev.track_id == 2
    assert ev.objects[0].label == "suitcase"
    # Carried at 100 px/s the bag's spot restarts as it moves; it stops at t=3.
    assert 2.5 <= ev.started_at <= 3.0
    # Static 10 s (t = 13) after the owner left at ~5.5 s (+5 s = 10.5): the later wins.
    assert ev.t == pytest.approx(ev.started_at + 10.0)
    assert ev.evidence["owner_seen"] is True and ev.evidence["unattended_s"] >= 5.0


def test_unattended_timer_starts_when_the_owner_leaves():
    rule = make(min_static_s=2.0, unattended_s=5.0)
    owner = seq((0, still((430, 500))), (8, walk((430, 500), (900, 500), 8, 10)))
    events = run(rule, frames({1: owner, 2: still(BAG_AT)}, 30))
    # The owner walks off at 235 px/s and is last within 80 px at t = 8.2: +5 s.
    assert [round(e.t, 1) for e in events] == [13.2]
    assert events[0].started_at == 0.0


def test_owner_staying_beside_it_never_fires():
    rule = make()
    events = run(rule, frames({1: still((450, 480)), 2: still(BAG_AT)}, 120))
    assert events == []


def test_bag_nobody_was_near_fires_after_min_static():
    rule = make(min_static_s=10.0, unattended_s=5.0)
    events = run(rule, frames({2: still(BAG_AT)}, 30))
    assert [(e.t, e.started_at, e.evidence["owner_seen"]) for e in events] == [(10.0, 0.0, False)]


def test_occlusion_and_new_track_id_continue_the_spot():
    rule = make(min_static_s=15.0, unattended_s=5.0)
    # A van (not an owner class) hides the bag from t=6 to t=10; the tracker then re-numbers it.
    before = still(BAG_AT, 0, 6)
    after = still((403, 498), 10)
    van = walk((100, 450), (900, 450), 5, 11)
    events = run(rule, frames({2: before, 5: after, 3: van}, 30, bags=(2, 5), cls={3: "truck"}))
    assert [(e.track_id, e.started_at, e.t) for e in events] == [(5, 0.0, 15.0)]


def test_occlusion_longer_than_forget_after_starts_over():
    rule = make(min_static_s=15.0, unattended_s=0.0, forget_after_s=3.0)
    events = run(rule, frames({2: still(BAG_AT, 0, 6), 5: still(BAG_AT, 10)}, 30, bags=(2, 5)))
    assert [(e.track_id, e.started_at, e.t) for e in events] == [(5, 10.0, 25.0)]


def test_a_passer_by_resets_the_unattended_timer():
    rule = make(min_static_s=10.0, unattended_s=5.0)
    passer = walk((100, 520), (900, 520), 6, 10)  # box within 80 px of the bag from 7.1 to 7.9 s
    events = run(rule, frames({2: still(BAG_AT), 7: passer}, 20))
    assert [round(e.t, 1) for e in events] == [12.9]


def test_bag_held_by_someone_standing_still_is_attended():
    # A tall person (feet at y=600) holds a handbag at hip height: 100 px from their feet,
    # but inside their box.
    person = [380.0, 400.0, 420.0, 600.0]
    bag = [390.0, 480.0, 410.0, 500.0]
    dets = Detections(np.array([person, bag]), np.array([0.9, 0.9]),
                      np.array([class_id("person"), class_id("handbag")]), np.array([1, 2]))
    rule = make(min_static_s=5.0, unattended_s=5.0)
    assert [e for k in range(300) for e in rule.update(dets, k / 10)] == []
    alone = dets[np.array([False, True])]
    assert [e.t for k in range(300, 400) for e in rule.update(alone, k / 10)] == [34.9]


def test_moved_bag_rearms_and_fires_again_only_after_cooldown():
    def moved(t):  # left at one spot, pushed 200 px in 0.5 s at t=20, left there
        if t < 20:
            return BAG_AT
        if t < 20.5:
            return (BAG_AT[0] + 400 * (t - 20), BAG_AT[1])
        return (BAG_AT[0] + 200, BAG_AT[1])

    events = run(make(min_static_s=5.0, unattended_s=0.0, cooldown_s=0.0), frames({2: moved}, 40))
    assert [round(e.started_at, 1) for e in events] == [0.0, 20.5]
    assert [round(e.t, 1) for e in events] == [5.0, 25.5]
    events = run(make(min_static_s=5.0, unattended_s=0.0, cooldown_s=60.0), frames({2: moved}, 40))
    assert [round(e.t, 1) for e in events] == [5.0]


def test_zone_classes_and_confidence_filters():
    rule = make(min_static_s=2.0, unattended_s=0.0, polygon=[norm(300, 400), norm(500, 400), norm(500, 600)])
    paths = {2: still((470, 520)), 3: still((380, 450)), 4: still((700, 300)), 5: still((800, 200))}
    events = run(rule, frames(paths, 10, bags=(2, 3, 4), conf={3: 0.1}))
    # 2 is in the zone; 3 too but below min_confidence; 4 outside; 5 is a person.
    assert [e.track_id for e in events] == [2]
    assert make().spec.classes == ["backpack", "handbag", "suitcase"]


def test_jitter_within_radius_is_static_but_a_carried_bag_is_not():
    rule = make(min_static_s=5.0, unattended_s=0.0, static_radius=0.01)  # 10 px

    def jitter(t):
        k = int(round(t * 10))
        return (400 + (4 if k % 2 else -4), 500 + (3 if k % 3 else -3))

    assert len(run(rule, frames({2: jitter}, 8))) == 1
    slow = walk((100, 300), (900, 300), 0, 40)  # 20 px/s: a bag on a trolley
    assert run(make(min_static_s=5.0, unattended_s=0.0), frames({2: slow}, 40)) == []


def test_state_is_bounded_by_forget_after():
    rule = make(min_static_s=100.0, forget_after_s=5.0)
    # A bag every 2 s, each standing 3 s somewhere new: 24/7 in miniature.
    for k in range(200):
        t0 = 2.0 * k
        for t, dets in frames({k: still((100 + 50 * (k % 16), 500), t0, t0 + 3)}, t0 + 2, t0=t0, bags=(k,)):
            rule.update(dets, t)
    assert rule.state_size() <= 5
    rule.update(frames({}, 0)[0][1], 1000.0)
    assert rule.state_size() == 0
