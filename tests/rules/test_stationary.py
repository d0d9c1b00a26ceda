import pytest

from rules.config import StationarySpec
from rules.stationary import Stationary
from tests.rules.conftest import FRAME, norm, run, scene, still, walk

LOT = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]


def make(**kw) -> Stationary:
    spec = StationarySpec(id="no-parking", kind="stationary", polygon=LOT, **kw)
    return Stationary(spec, "cam1", FRAME)


def cars(paths, t_end, **kw):
    return scene(paths, t_end, cls={k: "car" for k in paths}, **kw)


def test_parked_car_fires_once_per_stay():
    rule = make(min_stationary_s=10.0, cooldown_s=0.0)
    # Drives in, stops at (400, 400) from t=2, stays 60 s.
    frames = cars({1: walk((100, 400), (400, 400), 0, 2)}, 2) + cars(
        {1: still((400, 400))}, 62, t0=2.1
    )
    events = run(rule, frames)
    assert len(events) == 1
    ev = events[0]
    assert ev.rule_kind == "stationary" and ev.objects[0].label == "car"
    assert ev.started_at == pytest.approx(2.0) and ev.t == pytest.approx(12.0)
    assert ev.evidence["stationary_s"] == pytest.approx(10.0)


def test_jitter_within_radius_keeps_the_stay():
    rule = make(min_stationary_s=5.0, tolerance_radius=0.01)  # 10 px at 1000 px wide

    def jitter(t):  # +-4 px box noise
        k = int(round(t * 10))
        return (400 + (4 if k % 2 else -4), 400 + (3 if k % 3 else -3))

    events = run(rule, cars({1: jitter}, 8))
    assert len(events) == 1 and events[0].started_at == 0.0


def test_moving_car_and_people_do_not_fire():
    rule = make(min_stationary_s=3.0)
    slow = walk((210, 400), (590, 400), 0, 20)  # 19 px/s: slow, but moving
    events = run(rule, scene({1: slow, 2: still((300, 300))}, 20, cls={1: "car", 2: "person"}))
    assert events == []


def test_outside_zone_does_not_fire_and_occlusion_keeps_the_stay():
    rule = make(min_stationary_s=5.0, forget_after_s=10.0)
    outside = still((800, 400))

    def hidden_a_while(t):  # parked, hidden by a passing truck during [2, 4)
        return None if 2 <= t < 4 else (400, 400)

    events = run(rule, cars({1: outside, 2: hidden_a_while}, 7))
    assert [(e.track_id, e.started_at, e.t) for e in events] == [(2, 0.0, 5.0)]


def test_moving_away_and_stopping_again_fires_again_after_cooldown():
    rule = make(min_stationary_s=2.0, cooldown_s=0.0)

    def park_twice(t):
        if t < 5:
            return (300, 300)
        if t < 6:
            return (300 + 200 * (t - 5), 300)
        return (500, 300)

    events = run(rule, cars({1: park_twice}, 10))
    assert [round(e.started_at, 3) for e in events] == [0.0, 6.0]
    rule = make(min_stationary_s=2.0, cooldown_s=60.0)
    assert len(run(rule, cars({1: park_twice}, 10))) == 1


def test_default_classes_are_vehicles():
    assert make().spec.classes == ["car", "motorcycle", "bus", "truck"]
