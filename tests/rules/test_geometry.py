import numpy as np
import pytest

from rules.geometry import (
    PolygonZone,
    crossing_positions,
    points_in_polygon,
    segment_positions,
    signed_distances,
    to_pixels,
)


def test_to_pixels_scales_by_width_then_height():
    px = to_pixels([(0.5, 0.25), (1, 1)], (1000, 800))
    assert px.tolist() == [[500, 200], [1000, 800]]
    with pytest.raises(ValueError):
        to_pixels([(0, 0)], (0, 10))


def test_concave_polygon_notch_is_outside():
    # A "U": the notch between the arms is outside although inside the bounding box.
    u = np.array([(0, 0), (30, 0), (30, 100), (70, 100), (70, 0), (100, 0), (100, 130), (0, 130)])
    pts = np.array([(50, 50), (15, 50), (85, 50), (50, 120), (150, 50)])
    assert points_in_polygon(pts, u).tolist() == [False, True, True, True, False]
    assert PolygonZone(u).contains(np.zeros((0, 2))).shape == (0,)


def test_side_a_is_left_walking_first_to_last_as_displayed():
    left_to_right = np.array([(0, 100), (100, 100)])
    d = signed_distances(np.array([(50, 90), (50, 110), (50, 100)]), left_to_right)
    assert d[:, 0].tolist() == [10, -10, 0]  # above the line (smaller y) is side A
    top_to_bottom = np.array([(100, 0), (100, 100)])
    d = signed_distances(np.array([(110, 50), (90, 50)]), top_to_bottom)
    assert d[:, 0].tolist() == [10, -10]  # walking down the image, A is on the right


def test_segment_positions_and_crossings_per_segment():
    polyline = np.array([(0, 0), (100, 0), (100, 100)])
    u = segment_positions(np.array([(50, 5), (150, 0)]), polyline)
    assert u.shape == (2, 2)
    assert u[0, 0] == pytest.approx(0.5) and u[1, 0] == pytest.approx(1.5)
    # Step from (50, -10) to (50, 10) meets segment 0 halfway; (N, M, 2) "before" works too.
    before = np.array([[(50, -10), (90, 50)]], dtype=float)
    cu = crossing_positions(before, np.array([(50, 10)]), polyline)
    assert cu[0, 0] == pytest.approx(0.5)
