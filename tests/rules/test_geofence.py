"""geofence: frame-by-frame scenarios on a calibrated camera (perspective homography fitted to
surveyed points), enter / inside / exit, hysteresis, occlusion, cooldown, unmapped frames."""

import logging

import numpy as np
import pytest

from detectors.calibration import CalibrationConfig, GroundMapper
from rules.config import GeofenceSpec
from rules.engine import RuleEngine
from rules.geofence import Geofence
from tests.rules.conftest import FRAME, batch, run, scene, still, walk

# A plaza ~40 m wide and ~55 m deep seen in perspective: its far (north) edge spans the middle
# of the image, its near (south) edge the whole bottom.
S, N, W, E = 52.5200, 52.5205, 13.4000, 13.4006
CALIBRATION = CalibrationConfig(points=[
    {"image": (0.3, 0.3), "lat": N, "lon": W},
    {"image": (0.7, 0.3), "lat": N, "lon": E},
    {"image": (1.0, 1.0), "lat": S, "lon": E},
    {"image": (0.0, 1.0), "lat": S, "lon": W},
])
MAPPER = GroundMapper(CALIBRATION, FRAME)
MID = 52.52025  # the fence: the northern half of the plaza, a little in from its sides
NORTH_HALF = [[MID, 13.4001], [MID, 13.4005], [52.52048, 13.4005], [52.52048, 13.4001]]


def px_of(lat: float, lon: float) -> tuple[float, float]:
    """The pixel that sees (lat, lon): the mapper's homography inverted."""
    g = MAPPER._geo_to_local(np.array([lat]), np.array([lon]))[0]
    p = np.linalg.inv(MAPPER.H) @ np.array([g[0], g[1], 1.0])
    return (float(p[0] / p[2]), float(p[1] / p[2]))


SOUTH_PX, NORTH_PX = px_of(52.52005, 13.4003), px_of(52.52045, 13.4003)


def make(**kw) -> Geofence:
    kw = {"polygons": [NORTH_HALF], "cooldown_s": 0.0, **kw}
    return Geofence(GeofenceSpec(id="north", kind="geofence", **kw), "cam1", FRAME)


def feed(rule, frames, ground=MAPPER.image_to_geo):
    out = []
    for t, dets in frames:
        out.extend(rule.update(dets, t, ground=ground))
    return out


def first_time(frames, pred) -> float:
    """Frame time of the first frame whose (only) track's ground position satisfies pred."""
    for t, dets in frames:
        if len(dets) and pred(MAPPER.image_to_geo(dets.anchors())[0]):
            return t
    raise AssertionError("never")


def test_the_homography_is_a_real_perspective():
    # Equal steps on the ground are shorter in pixels far away: not an affine map.
    near = np.subtract(px_of(52.5201, 13.4003), px_of(52.5200, 13.4003))
    far = np.subtract(px_of(52.5205, 13.4003), px_of(52.5204, 13.4003))
    assert abs(far[1]) < 0.7 * abs(near[1])
    lat, lon = MAPPER.image_to_geo(np.array([px_of(52.5203, 13.4002)]))[0]
    assert (lat, lon) == pytest.approx((52.5203, 13.4002), abs=1e-9)


def test_enter_fires_once_after_min_inside():
    frames = scene({1: walk(SOUTH_PX, NORTH_PX, 0, 10)}, 12)
    entered = first_time(frames, lambda g: g[0] > MID)
    events = feed(make(trigger="enter", min_inside_s=1.0), frames)
    assert len(events) == 1
    ev = events[0]
    assert ev.rule_kind == "geofence" and ev.track_id == 1 and ev.evidence["trigger"] == "enter"
    assert ev.started_at == pytest.approx(entered) and ev.t == pytest.approx(entered + 1.0)
    assert MID < ev.evidence["lat"] < 52.52048 and 13.4001 < ev.evidence["lon"] < 13.4005
    # Walking the other way is an exit, not an entry.
    assert feed(make(trigger="enter"), scene({1: walk(NORTH_PX, SOUTH_PX, 0, 10)}, 12)) == []


def test_exit_fires_after_min_outside_also_for_a_track_first_seen_inside():
    frames = scene({1: walk(NORTH_PX, SOUTH_PX, 0, 10)}, 12)
    left = first_time(frames, lambda g: g[0] < MID)
    events = feed(make(trigger="exit", min_outside_s=0.5), frames)
    assert [(e.started_at, e.t) for e in events] == [pytest.approx((left, left + 0.5))]
    assert feed(make(trigger="exit"), scene({1: walk(SOUTH_PX, NORTH_PX, 0, 10)}, 12)) == []


def test_inside_fires_for_a_track_first_seen_inside_but_enter_does_not():
    frames = scene({1: still(NORTH_PX)}, 5)
    assert [(e.started_at, e.t) for e in feed(make(trigger="inside", min_inside_s=2.0), frames)] == [
        (0.0, 2.0)]
    assert feed(make(trigger="enter"), frames) == []
    # Walking in: inside fires with enter's timing.
    frames = scene({1: walk(SOUTH_PX, NORTH_PX, 0, 10)}, 12)
    entered = first_time(frames, lambda g: g[0] > MID)
    events = feed(make(trigger="inside", min_inside_s=1.0), frames)
    assert [(e.started_at, e.t) for e in events] == [pytest.approx((entered, entered + 1.0))]


def test_jitter_on_the_outline_counts_once():
    inside, outside = px_of(MID + 0.000004, 13.4003), px_of(MID - 0.000004, 13.4003)

    def flicker(t):  # alternating every frame across the fence line, inside from 9.9 s on
        k = int(round(t * 10))
        return inside if t >= 10 or k % 2 else outside

    frames = scene({1: flicker}, 15)
    assert [round(e.t, 1) for e in feed(make(trigger="enter", min_inside_s=0.5), frames)] == [10.4]
    assert feed(make(trigger="exit", min_outside_s=0.5), frames) == []


def test_occlusion_keeps_the_stay_and_cooldown_limits_refires():
    hidden = lambda t: None if 1 <= t < 4 else NORTH_PX  # noqa: E731
    events = feed(make(trigger="inside", min_inside_s=3.0), scene({1: hidden}, 8))
    assert [e.t for e in events] == [4.0]  # inside since 0 s, seen again at 4 s

    def in_and_out(t):  # enters three times, 10 s apart
        return NORTH_PX if int(t // 5) % 2 else SOUTH_PX

    frames = scene({1: in_and_out}, 32)
    assert [e.t for e in feed(make(trigger="enter", min_inside_s=0.0), frames)] == [5.0, 15.0, 25.0]
    limited = make(trigger="enter", min_inside_s=0.0, cooldown_s=12.0)
    assert [e.t for e in feed(limited, frames)] == [5.0, 25.0]


def test_any_of_several_polygons():
    other = [[52.52005, 13.4001], [52.52005, 13.4005], [52.52015, 13.4005], [52.52015, 13.4001]]
    start = px_of(52.52001, 13.4003)
    events = feed(make(trigger="enter", polygons=[NORTH_HALF, other]), scene({1: walk(start, NORTH_PX, 0, 10)}, 12))
    assert len(events) == 2  # into the southern strip, then into the northern half


def test_unmapped_frames_and_pixels_are_unseen():
    frames = scene({1: walk(SOUTH_PX, NORTH_PX, 0, 10)}, 12)
    assert feed(make(trigger="enter"), frames, ground=None) == []

    def no_sky(px):  # a drone's mapping: pixels at or above the horizon have no ground
        geo = MAPPER.image_to_geo(px)
        geo[px[:, 1] < 300] = np.nan
        return geo

    rule = make(trigger="inside", min_inside_s=0.0)
    assert feed(rule, scene({1: still((500, 200))}, 2), ground=no_sky) == []
    assert rule.state_size() == 0


def test_engine_passes_ground_and_logs_once_without_it(caplog):
    spec = GeofenceSpec(id="north", kind="geofence", polygons=[NORTH_HALF], trigger="inside",
                        min_inside_s=0.0)
    engine = RuleEngine("cam1", [spec])
    with caplog.at_level(logging.WARNING, logger="lookout.rules"):
        for t in (0.0, 0.1, 0.2):
            assert engine.update(batch({1: NORTH_PX}), t, FRAME) == []
    warnings = [r for r in caplog.records if "no ground positions" in r.getMessage()]
    assert len(warnings) == 1 and "north" in warnings[0].getMessage()
    events = engine.update(batch({1: NORTH_PX}), 0.3, FRAME, ground=MAPPER.image_to_geo)
    assert [(e.rule_id, e.t) for e in events] == [("north", 0.3)]


def test_classes_and_confidence_filter():
    frames = scene({1: still(NORTH_PX), 2: still(NORTH_PX), 3: still(NORTH_PX)}, 2,
                   cls={2: "car"}, conf={3: 0.1})
    events = feed(make(trigger="inside", min_inside_s=1.0), frames)
    assert [e.track_id for e in events] == [1]
