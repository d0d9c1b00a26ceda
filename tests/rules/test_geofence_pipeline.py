"""Geofences through the whole camera pipeline (generated scene, fake detector, real tracker):
ground positions come from a calibrated camera's homography or a drone frame's telemetry."""

from __future__ import annotations

import itertools
import logging

from detectors.calibration import CalibrationConfig
from detectors.config import DetectorConfig, MotionConfig, TrackerConfig
from detectors.registry import create_detector
from ingest.config import CameraConfig
from ingest.generated import GeneratedSource
from ingest.pipeline import CameraPipeline
from ingest.sensors.drone import TelemetrySample, ground_point
from rules.config import GeofenceSpec

# The frame's four corners pinned to a ~100 m x 75 m rectangle (north up, image y down).
NW, SE = (31.2310, 121.4730), (31.2303, 121.4741)
MID_LON = (NW[1] + SE[1]) / 2
CALIBRATION = CalibrationConfig(points=[
    {"image": (0, 0), "lat": NW[0], "lon": NW[1]},
    {"image": (1, 0), "lat": NW[0], "lon": SE[1]},
    {"image": (1, 1), "lat": SE[0], "lon": SE[1]},
    {"image": (0, 1), "lat": SE[0], "lon": NW[1]},
])
EAST_HALF = [[NW[0], MID_LON], [NW[0], SE[1]], [SE[0], SE[1]], [SE[0], MID_LON]]


def _pipeline(kind: str, calibration, polygon, trigger="inside"):
    cam = CameraConfig(id="yard", kind=kind, url="generated://scene", analysis_fps=10, realtime=False,
                       calibration=calibration)
    rule = GeofenceSpec(kind="geofence", id="east", polygons=[polygon], trigger=trigger,
                        min_inside_s=0.5, cooldown_s=0.0)
    pipeline = CameraPipeline(
        cam, site_id="test", detector=create_detector(DetectorConfig(kind="fake")),
        motion=MotionConfig(enabled=False), tracker=TrackerConfig(), rules=[rule],
    )
    return cam, pipeline


def _alerts(cam, pipeline, frames: int, telemetry: dict | None = None):
    source = GeneratedSource.from_camera(cam)
    out = []
    try:
        for frame in itertools.islice(source, frames):
            if telemetry is not None:
                frame.meta["telemetry"] = telemetry | {"t": frame.t, "dt_s": 0.0}
            out += pipeline.process(frame)
    finally:
        source.close()
    return out


def test_calibrated_camera_fires_for_tracks_standing_in_the_lat_lon_polygon():
    cam, pipeline = _pipeline("camera", CALIBRATION, EAST_HALF)
    alerts = _alerts(cam, pipeline, 150)
    assert alerts, "no walker stood in the east half of the generated scene in 15 s"
    for alert in alerts:
        assert alert.rule.kind == "geofence"
        lat, lon = alert.objects[0].geo  # the alert's ground position agrees with the rule's
        assert MID_LON < lon < SE[1] and SE[0] < lat < NW[0]
        assert alert.evidence["lon"] > MID_LON
    cam, west = _pipeline("camera", CALIBRATION, [[NW[0], NW[1]], [NW[0], MID_LON], [SE[0], MID_LON], [SE[0], NW[1]]])
    west_alerts = _alerts(cam, west, 150)
    assert west_alerts and all(a.objects[0].geo[1] < MID_LON for a in west_alerts)


def test_uncalibrated_camera_logs_once_and_never_fires(caplog):
    cam, pipeline = _pipeline("camera", None, EAST_HALF)
    with caplog.at_level(logging.WARNING, logger="lookout.rules"):
        assert _alerts(cam, pipeline, 100) == []
    assert len([r for r in caplog.records if "no ground positions" in r.getMessage()]) == 1


def test_drone_frames_map_through_their_telemetry():
    # Straight down from 60 m: the right half of the image is east of the drone.
    tel = {"lat": 31.0, "lon": 121.0, "alt_m": 60.0, "heading_deg": 0.0, "gimbal_pitch_deg": -90.0,
           "hfov_deg": 70.0}
    right_of_center = ground_point(TelemetrySample(t=0, **tel), 400, 240, 640, 480)
    assert right_of_center is not None and right_of_center[1] > 121.0
    east = [[30.99, 121.0], [30.99, 121.01], [31.01, 121.01], [31.01, 121.0]]
    cam, pipeline = _pipeline("drone", None, east)
    alerts = _alerts(cam, pipeline, 150, telemetry=tel)
    assert alerts and all(a.rule.kind == "geofence" and a.evidence["lon"] > 121.0 for a in alerts)
    # Every such alert is about a track in the right half of the image.
    width = 640
    assert all((a.objects[0].bbox[0] + a.objects[0].bbox[2]) / 2 > width / 2 for a in alerts)
    # Without telemetry on its frames the drone's geofence sees nothing.
    cam, pipeline = _pipeline("drone", None, east)
    assert _alerts(cam, pipeline, 150) == []
