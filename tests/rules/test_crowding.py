import pytest

from rules.config import CrowdingSpec
from rules.crowding import Crowding
from tests.rules.conftest import FRAME, norm, run, scene, still

SQUARE = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]


def make(**kw) -> Crowding:
    spec = CrowdingSpec(id="crowd", kind="crowding", polygon=SQUARE, **kw)
    return Crowding(spec, "cam1", FRAME)


def people(n, t0=0.0, t1=float("inf"), x0=250):
    return {100 + i: still((x0 + 10 * i, 300), t0, t1) for i in range(n)}


def test_fires_when_count_holds_for_duration():
    paths = people(3) | {200: still((700, 300))}  # one person outside the zone
    events = run(make(min_count=3, min_duration_s=2.0, cooldown_s=100), scene(paths, 10))
    assert len(events) == 1
    ev = events[0]
    assert ev.t == pytest.approx(2.0) and ev.track_id == -1 and ev.rule_kind == "crowding"
    assert ev.evidence["count"] == 3 and len(ev.objects) == 3


def test_not_enough_people_or_not_long_enough():
    assert run(make(min_count=4, min_duration_s=1.0), scene(people(3), 5)) == []
    assert run(make(min_count=3, min_duration_s=3.0), scene(people(3, 0, 2.5), 5)) == []


def test_short_dip_keeps_timer_and_long_dip_restarts():
    rule = make(min_count=3, min_duration_s=2.0, drop_grace_s=0.5)
    paths = people(2) | {300: lambda t: None if 1.0 <= t < 1.3 else (350, 300)}
    assert [round(e.t, 3) for e in run(rule, scene(paths, 4))] == [2.0]
    rule = make(min_count=3, min_duration_s=2.0, drop_grace_s=0.5)
    paths = people(2) | {300: lambda t: None if 1.0 <= t < 2.0 else (350, 300)}
    assert [round(e.t, 3) for e in run(rule, scene(paths, 5))] == [4.0]


def test_new_episode_after_cooldown():
    rule = make(min_count=2, min_duration_s=0.0, drop_grace_s=0.0, cooldown_s=5.0)

    def blink(t):  # the crowd forms at 0, 2 and 6 s, for 1 s each
        return (300, 300) if int(t) in (0, 2, 6) and t % 1 < 0.95 else None

    paths = {1: blink, 2: lambda t: (320, 300) if blink(t) else None}
    assert [round(e.t, 3) for e in run(rule, scene(paths, 8))] == [0.0, 6.0]
    assert rule.state_size() == 0
