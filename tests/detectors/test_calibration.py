"""Image → ground homography from reference points."""

import math

import numpy as np
import pytest
from pydantic import ValidationError

from detectors.calibration import EARTH_RADIUS_M, CalibrationConfig, GroundMapper

LAT0, LON0 = 31.2304, 121.4737


def _geo(east_m: float, north_m: float) -> tuple[float, float]:
    k = math.pi / 180 * EARTH_RADIUS_M
    return LAT0 + north_m / k, LON0 + east_m / (k * math.cos(math.radians(LAT0)))


def _scene():
    # A known homography ground(m) -> image(px) of a tilted camera looking at a 40 x 30 m plaza.
    G2I = np.array([[12.0, 3.0, 320.0], [0.5, -9.0, 420.0], [0.0005, -0.012, 1.0]])
    return G2I


def _project(G2I, ground):
    g = np.c_[ground, np.ones(len(ground))] @ G2I.T
    return g[:, :2] / g[:, 2:]


def test_recovers_ground_positions_and_geo():
    G2I = _scene()
    ground_ref = np.array([[-15, 0], [15, 0], [15, 25], [-15, 25], [0, 12]], dtype=float)
    image_ref = _project(G2I, ground_ref)
    w, h = 640, 480
    cfg = CalibrationConfig(points=[
        {"image": (x / w, y / h), "lat": _geo(e, n)[0], "lon": _geo(e, n)[1]}
        for (x, y), (e, n) in zip(image_ref, ground_ref)
    ])
    mapper = GroundMapper(cfg, (w, h))
    assert mapper.reprojection_error_m < 0.01
    probe_ground = np.array([[3.0, 7.0], [-10.0, 20.0]])
    probe_px = _project(G2I, probe_ground)
    geo = mapper.image_to_geo(probe_px)
    for (lat, lon), (e, n) in zip(geo, probe_ground):
        exp_lat, exp_lon = _geo(e, n)
        assert abs(lat - exp_lat) * 111_000 < 0.05 and abs(lon - exp_lon) * 95_000 < 0.05
    # Distances in metres are preserved, whatever the reference centroid.
    g = mapper.image_to_ground(probe_px)
    assert np.linalg.norm(g[0] - g[1]) == pytest.approx(np.linalg.norm(probe_ground[0] - probe_ground[1]), abs=0.05)


def test_collinear_points_are_refused():
    with pytest.raises(ValidationError, match="one line"):
        CalibrationConfig(points=[{"image": (0.1 * i, 0.1 * i), "lat": LAT0 + i * 1e-5, "lon": LON0} for i in range(4)])


def test_needs_four_points():
    with pytest.raises(ValidationError):
        CalibrationConfig(points=[{"image": (0.1, 0.2), "lat": LAT0, "lon": LON0}] * 3)
