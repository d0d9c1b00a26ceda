import pytest

from rules.config import LoiteringSpec
from rules.loitering import Loitering
from tests.rules.conftest import FRAME, norm, run, scene, still, walk

SQUARE = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]


def make(**kw) -> Loitering:
    kw.setdefault("min_dwell_s", 5.0)
    spec = LoiteringSpec(id="bench", kind="loitering", polygon=SQUARE, **kw)
    return Loitering(spec, "cam1", FRAME)


def test_fires_once_after_min_dwell():
    events = run(make(), scene({1: still((300, 300))}, 20))
    assert len(events) == 1 and events[0].t == pytest.approx(5.0)
    assert events[0].rule_kind == "loitering"
    assert events[0].evidence["dwell_s"] == pytest.approx(5.0)


def test_short_visit_does_not_fire():
    assert run(make(), scene({1: walk((100, 300), (700, 300), 0, 4)}, 6)) == []


def test_survives_occlusion_of_the_same_track():
    def hidden(t):  # hidden between 2 and 4 s
        return None if 2 <= t < 4 else (300, 300)

    events = run(make(), scene({1: hidden}, 8))
    assert len(events) == 1 and events[0].started_at == 0.0 and events[0].t == pytest.approx(5.0)


def test_survives_occlusion_with_new_track_id():
    # Track 1 stands still, is hidden at 2 s, and comes back as track 2 at 3 s, 10 px away.
    frames = scene({1: still((300, 300), 0, 2), 2: still((310, 300), 3)}, 8)
    events = run(make(max_gap_s=1.5), frames)
    assert [(e.track_id, e.started_at, round(e.t, 3)) for e in events] == [(2, 0.0, 5.0)]


def test_new_track_far_away_or_after_long_gap_starts_fresh():
    far = scene({1: still((300, 300), 0, 2), 2: still((500, 500), 3)}, 8)
    assert [round(e.t, 3) for e in run(make(max_gap_s=1.5), far)] == [8.0]
    late = scene({1: still((300, 300), 0, 2), 2: still((300, 300), 4)}, 9)
    assert [round(e.t, 3) for e in run(make(max_gap_s=1.5), late)] == [9.0]


def test_one_stay_goes_to_one_new_track():
    paths = {1: still((300, 300), 0, 2), 2: still((305, 300), 2.5), 3: still((295, 300), 2.5)}
    frames = scene(paths, 7.4)
    events = run(make(max_gap_s=1.5), frames)
    assert len(events) == 1 and events[0].started_at == 0.0


def test_gap_must_be_shorter_than_memory():
    with pytest.raises(ValueError, match="forget_after_s"):
        LoiteringSpec(id="x", kind="loitering", polygon=SQUARE, max_gap_s=20)


def test_state_bounded():
    rule = make(forget_after_s=2.0, max_gap_s=1.0)
    run(rule, scene({i: still((250 + i, 300), 0, 1) for i in range(40)}, 1))
    run(rule, scene({}, 4, t0=1.1))
    assert rule.state_size() == 0
