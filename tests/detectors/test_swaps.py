"""Id swaps and takeovers when people pass each other (detectors/swaps.py, detectors/appearance.py).

Frame by frame: tracks built from boxes we place, images drawn with colour patches per person.
"""

import numpy as np
import pytest

from detectors.appearance import describe, distance
from detectors.config import TrackerConfig
from detectors.detections import Detections
from detectors.swaps import SwapGuard
from detectors.tracking import Tracker

FPS = 10
W, H = 30, 80  # a person's box; a walker covers ~1 box height per second


def dets(boxes) -> Detections:
    b = np.array(boxes, np.float32).reshape(-1, 4)
    return Detections(b, np.full(len(b), 0.9), np.zeros(len(b)))


def person(x: float, y: float = 100) -> list[float]:
    return [x, y, x + W, y + H]


def frame(people: list[tuple[list[float], tuple, tuple]]) -> np.ndarray:
    """A grey textured frame with each person as a torso colour over a legs colour (BGR)."""
    rng = np.random.default_rng(3)
    img = rng.integers(110, 130, size=(360, 640, 3), dtype=np.uint8)
    for (x1, y1, x2, y2), torso, legs in people:
        x1, y1, x2, y2 = (int(round(v)) for v in (x1, y1, x2, y2))
        mid = y1 + (y2 - y1) // 2
        img[y1:mid, x1:x2] = torso
        img[mid:y2, x1:x2] = legs
    return img


RED, BLUE, YELLOW, GREEN = (0, 0, 220), (200, 60, 0), (0, 220, 230), (0, 170, 0)


# --- the guard on its own: box streams in, verdicts out -----------------------------------


def walk_past(swapped: bool, frames_apart: int = 6):
    """Streams 1 (walking right) and 2 (walking left) meet for 3 frames; afterwards stream 1
    carries whoever walks right when `swapped` is False, the one walking left when True."""
    guard = SwapGuard()
    verdicts = []
    for i in range(10 + 3 + frames_apart):
        t = i / FPS
        a, b = 100 + 8 * i, 260 - 8 * i  # x of the right- and left-walker
        if 10 <= i < 13:
            a = b = 180  # together: one spot, both streams on it
        s1, s2 = (b, a) if swapped and i >= 13 else (a, b)
        verdicts.append((t, guard.update(t, np.array([1, 2]), np.array([person(s1), person(s2, 104)]))))
    return [(round(t, 1), v.swaps) for t, v in verdicts if v.swaps]


def test_guard_swaps_back_ids_that_came_out_of_a_meeting_on_the_wrong_people():
    # Decided once both are apart and each has been seen 0.2 s (3 frames) on its own.
    assert walk_past(swapped=True) == [(1.5, [(1, 2)])]


def test_guard_leaves_a_correct_crossing_alone():
    assert walk_past(swapped=False) == []


def test_guard_does_not_decide_for_people_standing_still():
    guard = SwapGuard()
    out = []
    for i in range(25):
        t = i / FPS
        # Two people standing side by side; their boxes touch for a while, then part.
        a, b = (100, 135) if i < 10 or i >= 15 else (100, 125)
        out.append(guard.update(t, np.array([1, 2]), np.array([person(a), person(b)])).swaps)
    assert not any(out)


def test_guard_follows_a_hidden_person_along_their_walk():
    """Stream 2 loses its detection behind stream 1 (a person standing still). Where it would
    be had it kept walking touches stream 1, so the meeting counts; when the boxes come out
    swapped, the ids are swapped back."""
    guard = SwapGuard()
    swaps = []
    for i in range(30):
        t = i / FPS
        walker = 300 - 8 * i
        if i < 10:  # walking towards the stander at x=200
            ids, boxes = [1, 2], [person(200), person(walker)]
        elif i < 18:  # hidden behind the stander: only the stander's box
            ids, boxes = [1], [person(200)]
        else:  # the stream that was the stander now follows the walker, and vice versa
            ids, boxes = [1, 2], [person(walker), person(200)]
        swaps += guard.update(t, np.array(ids), np.array(boxes)).swaps
    assert swaps == [(1, 2)]


def test_guard_forgets_tracks_that_are_gone():
    guard = SwapGuard()
    for i in range(12):
        guard.update(i / FPS, np.array([1, 2]), np.array([person(100 + 8 * i), person(200 - 8 * i)]))
    assert len(guard) == 2
    guard.forget({2})
    assert len(guard) == 1
    guard.forget(set())
    assert len(guard) == 0


# --- through the tracker ------------------------------------------------------------------


def lane_change(swap_check: bool) -> dict[str, list[int]]:
    """Two people meet face to face, stand together 0.8 s, and walk on having stepped past each
    other (each now a few pixels lower/higher): ByteTrack's IoU matching follows the lanes and
    hands each person the other's id."""
    tr = Tracker(TrackerConfig(swap_check=swap_check, match_iou=0.05), fps=FPS)
    before = [(100 + 8 * i, 260 - 8 * i) for i in range(10)]
    mid = (before[-1][0] + before[-1][1]) / 2
    after = [(mid, mid)] * 8 + [(mid + 8 * i, mid - 8 * i) for i in range(1, 15)]
    ids: dict[str, list[int]] = {"right-walker": [], "left-walker": []}
    for i, (a, b) in enumerate(before + after):
        ya, yb = (100, 104) if i < len(before) else (104, 100)
        out = tr.update(dets([person(a, ya), person(b, yb)]), t=i / FPS)
        if abs(a - b) > W:
            for tid, box in zip(out.tracker_id.tolist(), out.xyxy.tolist()):
                ids["right-walker" if abs(box[0] - a) < abs(box[0] - b) else "left-walker"].append(tid)
    return ids


def test_bytetrack_alone_swaps_the_two_in_this_scene():
    ids = lane_change(swap_check=False)
    first = ids["right-walker"][0]
    assert ids["right-walker"][-1] != first and ids["left-walker"][-1] == first


def test_swap_check_gives_each_person_back_their_id():
    ids = lane_change(swap_check=True)
    right, left = ids["right-walker"], ids["left-walker"]
    assert right[0] != left[0]
    # Wrong for the 2 frames the check waits to see them apart, right ever after.
    assert set(right[-10:]) == {right[0]} and set(left[-10:]) == {left[0]}
    assert sum(tid != right[0] for tid in right) <= 2


def takeover(with_image: bool, newcomer=(YELLOW, GREEN), newcomer_speed: float = -3, splits: list | None = None,
             **cfg) -> tuple[int, list[int]]:
    """Person A (red over blue) walks right and steps behind a post at frame 15 just as person
    B steps out from behind it and walks slowly left: the detector sees only B there, and the
    tracker hands B A's track. Returns A's id and the ids B is reported under."""
    tr = Tracker(TrackerConfig(match_iou=0.05, **cfg), fps=FPS)
    a_id, b_ids = None, []
    for i in range(30):
        t = i / FPS
        if i < 15:
            box, colours = person(100 + 8 * i), (RED, BLUE)
        else:
            box, colours = person(216 + newcomer_speed * (i - 15)), newcomer
        out = tr.update(dets([box]), t, image=frame([(box, *colours)]) if with_image else None)
        if splits is not None:
            splits.append(sorted(tr.last_splits))
        if len(out):
            if i < 15:
                a_id = int(out.tracker_id[0])
            else:
                b_ids.append(int(out.tracker_id[0]))
    return a_id, b_ids


def test_without_colours_the_newcomer_keeps_the_first_persons_id():
    a_id, b_ids = takeover(with_image=False)
    assert set(b_ids) == {a_id}


def test_a_takeover_by_someone_who_looks_different_gets_a_new_id():
    splits: list = []
    a_id, b_ids = takeover(with_image=True, splits=splits)
    # Decided within 0.3 s (the last 3 frames' motion and colours against the second before),
    # then one new id for good.
    assert b_ids[0] == a_id and a_id not in b_ids[3:]
    assert len(set(b_ids[3:])) == 1
    # The new id is announced in the frame it is born, and only then.
    assert [s for s in splits if s] == [[b_ids[-1]]]


def test_no_split_when_only_the_motion_changes():
    # The same person stopping dead (same colours): an abrupt change of motion is not enough.
    a_id, b_ids = takeover(with_image=True, newcomer=(RED, BLUE), newcomer_speed=0)
    assert set(b_ids) == {a_id}


def test_no_split_when_only_the_colours_change():
    # Same walk, only the colours change (light, a coat taken off): no split either.
    tr = Tracker(TrackerConfig(match_iou=0.05), fps=FPS)
    ids = []
    for i in range(30):
        box = person(100 + 8 * i)
        colours = (RED, BLUE) if i < 15 else (YELLOW, GREEN)
        out = tr.update(dets([box]), i / FPS, image=frame([(box, *colours)]))
        ids += out.tracker_id.tolist()
    assert len(set(ids)) == 1


def test_swap_check_off_changes_nothing():
    a_id, b_ids = takeover(with_image=True, swap_check=False)
    assert set(b_ids) == {a_id}


# --- the colour descriptor ------------------------------------------------------------------


def test_descriptor_tells_clothes_apart_and_ignores_the_background():
    a, b = person(100), person(300)
    img = frame([(a, RED, BLUE), (b, YELLOW, GREEN)])
    same_clothes_elsewhere = frame([(person(400, 200), RED, BLUE)])
    d = describe(img, np.array([a, b]))
    d2 = describe(same_clothes_elsewhere, np.array([person(400, 200)]))
    assert distance(d[0], d2[0]) < 0.05
    assert distance(d[0], d[1]) > 0.9
    # Half the box off the frame still has pixels; a box wholly outside has none.
    edge = describe(img, np.array([[-15, 100, 15, 180], [700, 100, 730, 180]]))
    assert np.isfinite(edge[0]).all() and np.isnan(edge[1]).all()


@pytest.mark.parametrize("n", [0, 1, 5])
def test_descriptor_shapes(n):
    img = frame([])
    assert describe(img, np.array([person(10 * i) for i in range(n)]).reshape(-1, 4)).shape[0] == n
