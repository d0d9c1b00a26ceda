import numpy as np
import pytest

from rules.config import ZoneIntrusionSpec
from rules.zone_intrusion import ZoneIntrusion
from tests.rules.conftest import FRAME, norm, run, scene, still, walk

SQUARE = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]


def make(**kw) -> ZoneIntrusion:
    spec = ZoneIntrusionSpec(
        id="yard", kind="zone_intrusion", polygon=kw.pop("polygon", SQUARE), **kw
    )
    return ZoneIntrusion(spec, "cam1", FRAME)


def test_fires_once_after_min_inside_s():
    rule = make(min_inside_s=2.0)
    # Walk in at t=1 (x crosses 200), then stay inside until t=10.
    frames = scene({7: walk((100, 400), (300, 400), 0, 2)}, 2) + scene(
        {7: still((300, 400))}, 10, t0=2.1
    )
    fired_at = []
    for t, dets in frames:
        for ev in rule.update(dets, t):
            fired_at.append((t, ev))
    assert len(fired_at) == 1
    t, ev = fired_at[0]
    assert t == pytest.approx(1.1 + 2.0)  # at t=1.0 x=200 is on the edge (outside)
    assert ev.rule_id == "yard" and ev.rule_kind == "zone_intrusion" and ev.rule_version == 1
    assert ev.camera_id == "cam1" and ev.track_id == 7 and ev.severity == "high"
    assert ev.started_at == pytest.approx(1.1)
    assert ev.evidence["dwell_s"] == pytest.approx(2.0)
    assert ev.objects[0].label == "person" and ev.objects[0].point == pytest.approx((300, 400))


def test_no_event_before_min_inside_s():
    rule = make(min_inside_s=2.0)
    assert run(rule, scene({1: still((400, 400), 0, 1.9)}, 1.9)) == []


def test_concave_polygon_notch_does_not_fire():
    u_shape = [norm(*p) for p in [(100, 100), (300, 100), (300, 400), (500, 400), (500, 100),
                                  (700, 100), (700, 700), (100, 700)]]
    rule = make(polygon=u_shape, min_inside_s=0.5)
    events = run(rule, scene({1: still((400, 250)), 2: still((200, 250))}, 3))
    assert [e.track_id for e in events] == [2]


def test_flicker_out_shorter_than_grace_keeps_timer():
    rule = make(min_inside_s=1.0, exit_grace_s=0.5)

    def flicker(t):  # inside, but outside for 0.3 s in the middle of the dwell
        return (150, 400) if 0.5 <= t < 0.8 else (250, 400)

    events = run(rule, scene({1: flicker}, 2))
    assert len(events) == 1 and events[0].t == pytest.approx(1.0)
    assert events[0].started_at == 0.0


def test_leaving_longer_than_grace_restarts_timer():
    rule = make(min_inside_s=1.0, exit_grace_s=0.5)

    def out_long(t):
        return (150, 400) if 0.5 <= t < 1.5 else (250, 400)

    events = run(rule, scene({1: out_long}, 3))
    assert len(events) == 1 and events[0].started_at == pytest.approx(1.5)


def test_cooldown_and_rearm_same_track_new_track_at_once():
    rule = make(min_inside_s=0.0, cooldown_s=5.0, exit_grace_s=0.0)

    def in_out(t):  # inside during [0,1), [2,3), [7,8)
        return (300, 300) if (t % 1.0 < 0.95 and int(t) in (0, 2, 7)) else (100, 100)

    events = run(rule, scene({1: in_out, 2: still((400, 400), 2.5)}, 9))
    by_track = {tid: [round(e.t, 3) for e in events if e.track_id == tid] for tid in (1, 2)}
    # Track 1: entry at 0 fires; re-entry at 2 is within cooldown; re-entry at 7 fires again.
    assert by_track[1] == [0.0, 7.0]
    # Track 2 is new: it fires at once even though track 1 just fired.
    assert by_track[2] == [2.5]


def test_long_stay_fires_once_even_after_cooldown():
    rule = make(min_inside_s=0.0, cooldown_s=1.0)
    assert len(run(rule, scene({1: still((300, 300))}, 10))) == 1


def test_state_expires_for_unseen_tracks():
    rule = make(forget_after_s=2.0)
    frames = scene({i: still((300 + i, 300), 0, 1) for i in range(50)}, 1)
    run(rule, frames)
    assert rule.state_size() == 50
    run(rule, scene({99: still((300, 300))}, 3.5, t0=1.1))
    assert rule.state_size() == 1


def test_class_filter_min_confidence_and_untracked_rows():
    rule = make(min_inside_s=0.0, classes=["car"], min_confidence=0.5)
    frames = scene(
        {1: still((300, 300)), 2: still((310, 300)), 3: still((320, 300))},
        0.5,
        cls={1: "car", 2: "person", 3: "car"},
        conf={1: 0.9, 2: 0.9, 3: 0.4},
    )
    events = run(rule, frames)
    assert [e.track_id for e in events] == [1]
    # Rows without a tracker id never count.
    t, dets = frames[0]
    untracked = type(dets)(dets.xyxy, dets.confidence, dets.class_id)
    assert make(min_inside_s=0.0, classes=["car"]).update(untracked, 0.0) == []


def test_geometry_px_is_polygon_in_pixels():
    expected = [(200, 200), (600, 200), (600, 600), (200, 600)]
    np.testing.assert_allclose(make().geometry_px(), expected)


@pytest.mark.parametrize("anchor, fires", [("bottom_center", True), ("top_center", False)])
def test_anchor_choice(anchor, fires):
    # Feet just inside the top edge of the zone, head (40 px up) outside it.
    rule = make(min_inside_s=0.0, anchor=anchor)
    assert bool(run(rule, scene({1: still((400, 220))}, 0.5))) is fires
