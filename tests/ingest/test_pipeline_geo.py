"""A calibrated camera's alerts carry each object's ground position (lat/lon)."""

from __future__ import annotations

import itertools

from detectors.calibration import CalibrationConfig
from detectors.config import DetectorConfig, MotionConfig, TrackerConfig
from detectors.registry import create_detector
from ingest.config import CameraConfig
from ingest.generated import GeneratedSource
from ingest.pipeline import CameraPipeline
from rules.config import TripwireSpec

# The frame's four corners pinned to a ~100 m x 75 m rectangle (north up, image y down).
NW, SE = (31.2310, 121.4730), (31.2303, 121.4741)
CALIBRATION = CalibrationConfig(points=[
    {"image": (0, 0), "lat": NW[0], "lon": NW[1]},
    {"image": (1, 0), "lat": NW[0], "lon": SE[1]},
    {"image": (1, 1), "lat": SE[0], "lon": SE[1]},
    {"image": (0, 1), "lat": SE[0], "lon": NW[1]},
])


def _first_alerts(calibration):
    cam = CameraConfig(id="yard", url="generated://scene", analysis_fps=10, realtime=False,
                       location={"lat": 31.0, "lon": 121.0}, calibration=calibration)
    pipeline = CameraPipeline(
        cam, site_id="test", detector=create_detector(DetectorConfig(kind="fake")),
        motion=MotionConfig(enabled=False), tracker=TrackerConfig(),
        rules=[TripwireSpec(kind="tripwire", id="mid", line=[(0.5, 0.0), (0.5, 1.0)], min_offset_px=3)],
    )
    source = GeneratedSource.from_camera(cam)
    try:
        for frame in itertools.islice(source, 300):
            alerts = pipeline.process(frame)
            if alerts:
                return alerts
    finally:
        source.close()
    raise AssertionError("no walker crossed the mid-line in 30 s of the generated scene")


def test_calibrated_alert_carries_object_geo_inside_the_pinned_area():
    alert = _first_alerts(CALIBRATION)[0]
    lat, lon = alert.objects[0].geo
    assert SE[0] <= lat <= NW[0] and NW[1] <= lon <= SE[1]
    # The crossing is on the mid-line: half-way between west and east.
    assert abs(lon - (NW[1] + SE[1]) / 2) < 0.0001
    assert (alert.location.lat, alert.location.lon) == (lat, lon)


def test_uncalibrated_alert_is_placed_at_the_camera():
    alert = _first_alerts(None)[0]
    assert alert.objects[0].geo is None
    assert (alert.location.lat, alert.location.lon) == (31.0, 121.0)
