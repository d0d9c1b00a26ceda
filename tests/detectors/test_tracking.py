"""ByteTrack wrapper: stable ids, class and score kept, time-based track expiry."""

import numpy as np
import pytest

from detectors.config import TrackerConfig
from detectors.detections import Detections
from detectors.tracking import Tracker


def box(x: float, y: float = 100, w: float = 30, h: float = 80) -> list[float]:
    return [x, y, x + w, y + h]


def dets(boxes, conf=0.9, cls=0) -> Detections:
    n = len(boxes)
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n, conf), np.full(n, cls))


def test_one_id_across_a_missed_frame():
    tr = Tracker(TrackerConfig(), fps=10)
    seen = []
    for i in range(30):
        d = Detections.empty() if i == 15 else dets([box(20 + 8 * i)])
        out = tr.update(d, t=i / 10)
        if i == 15:
            assert len(out) == 0
        seen.extend(out.tracker_id.tolist())
    # min_hits=2: the first frame is unconfirmed, then every detected frame is tracked.
    assert len(seen) == 28
    assert len(set(seen)) == 1 and seen[0] >= 0


def test_class_and_confidence_follow_their_box():
    tr = Tracker(TrackerConfig(), fps=10)
    for i in range(5):
        d = Detections.merge([dets([box(300 + 5 * i, 50, 80, 50)], conf=0.8, cls=2),
                              dets([box(50 + 5 * i)], conf=0.6, cls=0)])
        out = tr.update(d, t=i * 0.1)
    assert len(out) == 2
    by_class = {int(c): (float(s), int(t), out.xyxy[k]) for k, (c, s, t) in
                enumerate(zip(out.class_id, out.confidence, out.tracker_id))}
    assert set(by_class) == {0, 2}
    assert abs(by_class[2][0] - 0.8) < 1e-6 and by_class[2][2][0] == 320
    assert abs(by_class[0][0] - 0.6) < 1e-6 and by_class[0][2][0] == 70
    assert by_class[0][1] != by_class[2][1]


def test_overlapping_objects_of_different_classes_keep_separate_ids():
    tr = Tracker(TrackerConfig(), fps=10)
    ids = set()
    for i in range(6):
        d = Detections.merge([dets([box(100, 100, 60, 100)], cls=2), dets([box(102 + i, 102, 58, 98)], cls=0)])
        ids.update(tr.update(d, t=i * 0.1).tracker_id.tolist())
    assert len(ids) == 2


def test_lost_track_time_is_in_seconds():
    cfg = TrackerConfig(lost_track_s=2.0)

    def at(t: float) -> Detections:  # walking right at 20 px/s
        return dets([box(100 + 20 * t)])

    for gap, same in ((1.5, True), (3.0, False)):
        tr = Tracker(cfg, fps=10)
        for i in range(5):
            first = tr.update(at(i * 0.1), t=i * 0.1)
        # The detector did not run during the gap (motion gate): no update calls at all.
        t0 = 0.4 + gap
        again = [tr.update(at(t0 + k * 0.1), t=t0 + k * 0.1) for k in range(3)]
        ids = {int(x) for a in again for x in a.tracker_id}
        assert ids and (ids == set(first.tracker_id.tolist())) is same, (gap, ids, first.tracker_id)


def test_expired_tracks_release_their_state_and_reset_restarts_ids():
    tr = Tracker(TrackerConfig(lost_track_s=1.0), fps=10)
    for i in range(5):
        tr.update(dets([box(100 + 2 * i)]), t=i * 0.1)
    assert tr.active_count == 1
    for k in range(30):
        tr.update(Detections.empty(), t=0.5 + k * 0.1)
    assert tr.active_count == 0
    tr.reset()
    for i in range(3):
        out = tr.update(dets([box(100 + 2 * i)]), t=i * 0.1)
    assert out.tracker_id.tolist() == [0]


@pytest.mark.parametrize("kind", ["bytetrack", "ocsort", "botsort"])
def test_every_tracker_kind_keeps_two_walkers_apart_with_stable_ids(kind):
    """Two people walking towards each other on parallel paths: each keeps one id, the two differ,
    class and score are carried, and nothing leaks once they are gone."""
    tr = Tracker(TrackerConfig(kind=kind), fps=10)
    ids: dict[int, set[int]] = {0: set(), 1: set()}
    for i in range(30):
        out = tr.update(dets([box(20 + 8 * i, y=100), box(400 - 8 * i, y=300)]), t=i / 10)
        for tid, (x1, y1, _, _) in zip(out.tracker_id.tolist(), out.xyxy.tolist()):
            ids[0 if y1 < 200 else 1].add(tid)
        assert set(out.class_id.tolist()) <= {0} and np.allclose(out.confidence, 0.9)
    assert len(ids[0]) == 1 and len(ids[1]) == 1 and ids[0] != ids[1]
    for j in range(60):  # 6 s without detections: tracks expire, state goes
        tr.update(Detections.empty(), t=3.0 + j / 10)
    assert tr.active_count == 0
