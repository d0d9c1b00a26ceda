import math

import numpy as np
import pytest

from rules.config import TripwireSpec
from rules.tripwire import Tripwire
from tests.rules.conftest import FRAME, norm, run, scene, walk

# Horizontal line y=400 from x=200 to x=600, drawn left to right: side A is above (y < 400).
LINE = [norm(200, 400), norm(600, 400)]


def make(**kw) -> Tripwire:
    spec = TripwireSpec(id="gate", kind="tripwire", line=kw.pop("line", LINE), **kw)
    return Tripwire(spec, "cam1", FRAME)


def directions(events):
    return [e.evidence["direction"] for e in events]


DOWN = walk((400, 300), (400, 500), 0, 2)  # above -> below: A to B
UP = walk((400, 500), (400, 300), 0, 2)  # below -> above: B to A


@pytest.mark.parametrize(
    "direction, path, expected",
    [
        ("both", DOWN, ["a_to_b"]),
        ("both", UP, ["b_to_a"]),
        ("a_to_b", DOWN, ["a_to_b"]),
        ("a_to_b", UP, []),
        ("b_to_a", UP, ["b_to_a"]),
        ("b_to_a", DOWN, []),
    ],
)
def test_direction_filter(direction, path, expected):
    events = run(make(direction=direction), scene({1: path}, 2))
    assert directions(events) == expected


def test_event_fields():
    (ev,) = run(make(severity="critical", version=3), scene({5: DOWN}, 2))
    assert ev.rule_kind == "tripwire" and ev.rule_version == 3 and ev.severity == "critical"
    assert ev.track_id == 5 and ev.started_at == ev.t
    # First frame firmly below (>= 3 px): y = 300 + 100 t >= 403 -> t = 1.1 (y = 410).
    assert ev.t == pytest.approx(1.1)
    assert ev.objects[0].point == pytest.approx((400, 410))


def test_vertical_line_drawn_top_to_bottom_has_a_on_the_right():
    rule = make(line=[norm(500, 100), norm(500, 700)])
    events = run(rule, scene({1: walk((600, 400), (400, 400), 0, 2)}, 2))  # right -> left
    assert directions(events) == ["a_to_b"]


def test_flicker_on_the_line_never_counts():
    rule = make(min_offset_px=3.0)

    def jitter(t):  # +-1 px around the line, also starting from a firm side
        k = round(t * 10)
        return (400, 380) if k < 5 else (400, 400 + (1 if k % 2 else -1))

    assert run(rule, scene({1: jitter}, 10)) == []


def test_real_crossing_with_jitter_counts_once_and_never_backwards():
    rule = make(min_offset_px=3.0, cooldown_s=0.0)
    rng = np.random.default_rng(0)
    noise = rng.uniform(-2.5, 2.5, size=200)

    def jittery(t):  # slow walk down through the line with +-2.5 px noise, then lingers near it
        k = round(t * 10)
        y = 390 + min(k, 40) * 0.5 + noise[k]
        return (400, y)

    events = run(rule, scene({1: jittery}, 19))
    assert directions(events) == ["a_to_b"]


def test_crossing_outside_segment_extent_does_not_count():
    rule = make()
    beyond_end = walk((700, 300), (700, 500), 0, 2)  # x=700, the segment ends at x=600
    assert run(rule, scene({1: beyond_end}, 2)) == []


def test_walking_around_the_end_does_not_count():
    rule = make()

    def around(t):  # A side inside extent -> beyond the end -> B side -> back inside extent
        corners = [(500, 300), (700, 300), (700, 500), (500, 500)]
        seg = min(int(t), 2)
        s = t - seg
        (x0, y0), (x1, y1) = corners[seg], corners[seg + 1]
        return (x0 + s * (x1 - x0), y0 + s * (y1 - y0))

    assert run(rule, scene({1: around}, 3)) == []


def test_polyline_fence_each_segment_counts_once_per_crossing():
    # A "V" opening upwards: (200,300) -> (400,600) -> (600,300).
    rule = make(line=[norm(200, 300), norm(400, 600), norm(600, 300)], cooldown_s=0.0)
    paths = {
        1: walk((300, 300), (200, 500), 0, 2),  # across the first segment
        2: walk((500, 300), (600, 500), 0, 2),  # across the second segment
        3: walk((400, 500), (400, 700), 0, 2),  # through the vertex
    }
    events = run(rule, scene(paths, 2))
    assert sorted(e.track_id for e in events) == [1, 2, 3]
    # Inside the V is the left-hand side of both segments (walking first -> last point).
    assert directions(events) == ["a_to_b"] * 3


def test_cooldown_same_track_and_new_track():
    rule = make(cooldown_s=5.0)

    def back_and_forth(t):  # crosses every second: down, up, down ... for 12 s
        return (400, 350 + 100 * abs(math.sin(math.pi * t / 2)))

    events = run(rule, scene({1: back_and_forth, 2: walk((300, 300), (300, 500), 3, 4)}, 12))
    t1 = [round(e.t, 1) for e in events if e.track_id == 1]
    assert len(t1) >= 2 and all(b - a >= 5.0 for a, b in zip(t1, t1[1:]))
    assert [e.track_id for e in events].count(2) == 1


def test_class_filter_and_min_confidence():
    rule = make(classes=["car", "truck"], min_confidence=0.5)
    paths = {1: DOWN, 2: DOWN, 3: DOWN}
    frames = scene(paths, 2, cls={1: "truck", 2: "person", 3: "car"}, conf={3: 0.2})
    assert [e.track_id for e in run(rule, frames)] == [1]


def test_state_expires():
    rule = make(forget_after_s=1.0)
    run(rule, scene({i: walk((250 + i, 300), (250 + i, 350), 0, 1) for i in range(30)}, 1))
    assert rule.state_size() == 30
    run(rule, scene({}, 3, t0=1.1))
    assert rule.state_size() == 0


def test_geometry_px():
    np.testing.assert_allclose(make().geometry_px(), [(200, 400), (600, 400)])
