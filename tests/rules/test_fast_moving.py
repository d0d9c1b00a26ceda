import numpy as np
import pytest
from pydantic import ValidationError

from rules.config import FastMovingSpec
from rules.fast_moving import FastMoving
from tests.rules.conftest import FRAME, norm, run, scene, still, walk


def make(**kw) -> FastMoving:
    kw.setdefault("min_speed", 200.0)
    return FastMoving(FastMovingSpec(id="run", kind="fast_moving", **kw), "cam1", FRAME)


def test_runner_fires_once_walker_never():
    rule = make(min_speed=200.0, window_s=1.0, min_duration_s=0.5)
    # Track 1 runs at 300 px/s for 3 s; track 2 walks at 100 px/s.
    runner, walker = walk((100, 300), (1000, 300), 0, 3), walk((100, 500), (400, 500), 0, 3)
    frames = scene({1: runner, 2: walker}, 3)
    events = run(rule, frames)
    assert [e.track_id for e in events] == [1]
    ev = events[0]
    # Measurable from 0.5 s (half a window), fast from then, fires 0.5 s later.
    assert ev.started_at == pytest.approx(0.5) and ev.t == pytest.approx(1.0)
    assert ev.evidence["unit"] == "px/s" and ev.evidence["speed"] == pytest.approx(300, rel=0.02)


def test_single_jump_is_not_a_sprint():
    rule = make(min_speed=200.0, window_s=1.0, min_duration_s=0.0)

    def jumpy(t):  # stands still, one box jumps 60 px away for one frame
        return (560, 300) if abs(t - 2.0) < 1e-6 else (500, 300)

    assert run(rule, scene({1: jumpy}, 4)) == []


def test_episode_ends_when_slow_then_cooldown_applies():
    rule = make(min_speed=200.0, min_duration_s=0.0, cooldown_s=10.0)

    def runner(t):  # 300 px/s during [0, 2) and back during [4, 6), still otherwise
        if t < 2:
            return (100 + 300 * t, 300)
        if t < 4:
            return (700, 300)
        if t < 6:
            return (700 - 300 * (t - 4), 300)
        return (100, 300)

    events = run(rule, scene({1: runner}, 20))
    assert len(events) == 1  # second sprint starts 4 s later: within the cooldown
    rule = make(min_speed=200.0, min_duration_s=0.0, cooldown_s=1.0)
    assert len(run(rule, scene({1: runner}, 20))) == 2


def test_zone_limits_where_speed_counts():
    zone = [norm(600, 0), norm(1000, 0), norm(1000, 800), norm(600, 800)]
    rule = make(min_speed=200.0, min_duration_s=0.0, polygon=zone)
    events = run(rule, scene({1: walk((0, 300), (900, 300), 0, 3)}, 3))
    assert len(events) == 1 and events[0].objects[0].point[0] > 600


def test_homography_gives_ground_speed():
    # Ground = 20 m across the frame width, 16 m down: a scale, x in metres = 20 * x_norm.
    H = [[20.0, 0, 0], [0, 16.0, 0], [0, 0, 1]]
    rule = make(min_speed=4.0, min_duration_s=0.0, homography=H)
    # 250 px/s = 0.25 frame widths/s = 5 m/s: a runner.
    events = run(rule, scene({1: walk((100, 300), (850, 300), 0, 3)}, 3))
    assert len(events) == 1
    assert events[0].evidence == {"speed": pytest.approx(5.0, rel=0.02), "unit": "m/s"}
    slow = make(min_speed=6.0, min_duration_s=0.0, homography=H)
    assert run(slow, scene({1: walk((100, 300), (850, 300), 0, 3)}, 3)) == []


def test_any_frame_rate_measures_the_same_speed():
    for fps in (2.0, 30.0):
        rule = make(min_speed=200.0, min_duration_s=0.0)
        events = run(rule, scene({1: walk((100, 300), (1000, 300), 0, 3)}, 3, fps=fps))
        assert len(events) == 1
        assert events[0].evidence["speed"] == pytest.approx(300, rel=0.02)


def test_still_object_never_fires():
    assert run(make(min_speed=1.0, min_duration_s=0.0), scene({1: still((300, 300))}, 5)) == []


@pytest.mark.parametrize(
    "h, words",
    [([[1, 0], [0, 1]], "3x3"), ([[1, 0, 0], [2, 0, 0], [0, 0, 1]], "singular")],
)
def test_bad_homography_refused(h, words):
    with pytest.raises(ValidationError, match=words):
        FastMovingSpec(id="r", kind="fast_moving", min_speed=1.0, homography=h)


def test_ground_points():
    rule = make(homography=[[20.0, 0, 0], [0, 16.0, 0], [0, 0, 1]])
    np.testing.assert_allclose(rule.ground(np.array([[500.0, 400.0]])), [[10.0, 8.0]])
