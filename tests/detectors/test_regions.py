"""Motion-region cropping: crop planning, detection on crops mapped back, the motion-only filter."""

import numpy as np

from detectors.config import MotionConfig
from detectors.detections import Detections
from detectors.marker import MarkerDetector
from detectors.motion import MotionGate
from detectors.regions import CropPlan, detect_in_crops, plan_crops, regions_with_tracks
from tests.detectors.helpers import draw_marker

FRAME = (576, 768, 3)


def plan(regions, **kw):
    args = dict(padding=0.5, min_size=208, max_fraction=0.6) | kw
    return plan_crops(regions, FRAME, **args)


def inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


class Recording:
    """The real marker detector, remembering the image sizes it was given."""

    name = "recording"

    def __init__(self) -> None:
        self.inner = MarkerDetector()
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: np.ndarray) -> Detections:
        self.shapes.append(image.shape)
        return self.inner.detect(image)


def test_no_regions_means_whole_frame_and_keep_everything():
    assert plan([]) == CropPlan(None, None)


def test_small_region_gets_one_padded_crop_of_at_least_min_size():
    p = plan([(300, 200, 330, 260)])
    assert len(p.crops) == 1
    crop = p.crops[0]
    assert crop[2] - crop[0] >= 208 and crop[3] - crop[1] >= 208
    assert inside((300, 200, 330, 260), crop)


def test_crops_at_the_border_stay_inside_the_frame_and_keep_their_size():
    crop = plan([(0, 560, 20, 576)]).crops[0]
    assert crop[0] == 0 and crop[3] == 576
    assert crop[2] - crop[0] >= 208 and crop[3] - crop[1] >= 208


def test_far_regions_get_separate_crops_and_overlapping_ones_merge():
    assert len(plan([(10, 10, 40, 80), (600, 400, 640, 480)]).crops) == 2
    merged = plan([(300, 200, 330, 260), (340, 210, 370, 270)]).crops
    assert len(merged) == 1 and inside((300, 200, 370, 270), merged[0])


def test_large_coverage_falls_back_to_the_whole_frame_but_keeps_the_areas():
    p = plan([(0, 0, 500, 400)])
    assert p.crops is None and p.areas is not None


def test_detections_on_crops_come_back_in_frame_coordinates():
    img = np.full(FRAME, 90, np.uint8)
    box = (500, 300, 530, 380)
    draw_marker(img, box)
    det = Recording()
    out = detect_in_crops(det, img, plan([box]))
    assert [tuple(b) for b in out.xyxy.astype(int).tolist()] == [box]
    # The detector saw a crop, not the whole frame.
    assert det.shapes and all(s[:2] != FRAME[:2] for s in det.shapes)


def test_objects_outside_motion_and_tracks_are_dropped_even_on_a_full_frame_pass():
    img = np.full(FRAME, 90, np.uint8)
    moving, static = (500, 300, 530, 380), (40, 100, 60, 140)
    draw_marker(img, moving)
    draw_marker(img, static)
    full = plan([moving], max_fraction=0.01)  # forces the full-frame pass
    assert full.crops is None
    for p in (full, plan([moving])):
        out = detect_in_crops(MarkerDetector(), img, p)
        assert [tuple(b) for b in out.xyxy.astype(int).tolist()] == [moving]


def test_a_box_cut_by_an_inner_crop_edge_is_dropped():
    img = np.full(FRAME, 90, np.uint8)
    draw_marker(img, (100, 100, 400, 140))  # wider than the crop around its left end
    out = detect_in_crops(MarkerDetector(), img, CropPlan(None, [(50, 50, 250, 250)]))
    assert len(out) == 0


def test_tracked_boxes_join_the_regions():
    tracks = Detections(np.array([[10, 20, 30, 60]], np.float32), np.array([0.9]), np.array([0]), np.array([4]))
    assert regions_with_tracks([(1.0, 2.0, 3.0, 4.0)], tracks) == [(1.0, 2.0, 3.0, 4.0), (10.0, 20.0, 30.0, 60.0)]


def test_gate_reports_a_moving_marker_not_a_static_one():
    rng = np.random.default_rng(3)
    bg = rng.integers(40, 200, size=FRAME, dtype=np.uint8)
    draw_marker(bg, (40, 100, 60, 140))  # a magenta "poster": there from the start, never moves
    gate = MotionGate(MotionConfig(method="diff", crop_regions=True))
    det = Recording()
    tracks = Detections.empty()
    assert gate.check(bg.copy(), 0.0, has_tracks=False)
    first = gate.detect(det, bg.copy(), tracks)
    assert len(first) == 1 and gate.last_crops is None  # startup: the whole frame counts
    for step in range(1, 6):
        x = 400 + 10 * step
        img = draw_marker(bg.copy(), (x, 300, x + 30, 380))
        assert gate.check(img, step * 0.1, has_tracks=False)
        found = gate.detect(det, img, tracks)
        assert gate.last_crops is not None
        assert len(found) == 1 and 395 <= found.xyxy[0, 0] <= 460 and found.xyxy[0, 1] >= 280


def test_crop_regions_off_runs_on_the_whole_frame():
    gate = MotionGate(MotionConfig(method="diff", crop_regions=False))
    img = np.full(FRAME, 90, np.uint8)
    draw_marker(img, (40, 100, 60, 140))
    det = Recording()
    gate.check(img, 0.0, False)
    assert len(gate.detect(det, img, Detections.empty())) == 1
    assert det.shapes == [FRAME]
