"""Drone telemetry: nearest sample per frame (MQTT and sidecar) and image point → ground."""

from __future__ import annotations

import json
import math
import time

import pytest

from ingest.config import CameraConfig
from ingest.sensors.config import SensorsFile
from ingest.sensors.drone import EARTH_RADIUS_M, TelemetrySample, TelemetryTrack, ground_point, stamp
from ingest.sensors.runtime import SensorRuntime
from ingest.supervisor import WorkerSupervisor
from tests.sensors.conftest import wait_for

LAT, LON = 31.23, 121.47


def sample(t=1_795_000_000.0, **kw) -> TelemetrySample:
    base = dict(t=t, lat=LAT, lon=LON, alt_m=100.0, heading_deg=0.0, gimbal_pitch_deg=-90.0,
                gimbal_yaw_deg=0.0, hfov_deg=90.0)
    return TelemetrySample(**(base | kw))


def offset_m(latlon):
    """(east, north) metres of a (lat, lon) from the drone."""
    lat, lon = latlon
    return (math.radians(lon - LON) * EARTH_RADIUS_M * math.cos(math.radians(LAT)),
            math.radians(lat - LAT) * EARTH_RADIUS_M)


def test_nadir_camera_maps_the_image_onto_a_square_under_the_drone():
    s = sample()  # 100 m up, looking straight down, top of the image = north, hfov 90°
    assert offset_m(ground_point(s, 640, 360, 1280, 720)) == pytest.approx((0, 0), abs=1e-6)
    # hfov 90° → the half-width covers tan(45°) × 100 m = 100 m; pixels are square.
    assert offset_m(ground_point(s, 1280, 360, 1280, 720)) == pytest.approx((100, 0), abs=1e-6)
    assert offset_m(ground_point(s, 640, 0, 1280, 720)) == pytest.approx((0, 56.25), abs=1e-6)


def test_oblique_camera_heading_east_and_the_horizon():
    s = sample(heading_deg=60, gimbal_yaw_deg=30, gimbal_pitch_deg=-45)  # looks east, 45° down
    assert offset_m(ground_point(s, 640, 360, 1280, 720)) == pytest.approx((100, 0), abs=1e-6)
    # Lower in the image is closer to the drone; the horizon and above have no ground point.
    near = offset_m(ground_point(s, 640, 600, 1280, 720))
    assert 0 < near[0] < 100 and near[1] == pytest.approx(0, abs=1e-6)
    assert ground_point(sample(gimbal_pitch_deg=0), 640, 300, 1280, 720) is None


def test_track_gives_the_nearest_sample_within_the_gap():
    track = TelemetryTrack(keep_s=60, max_gap_s=1.0)
    for t in (10.0, 12.0, 11.0, 13.0):  # out of order, as UDP-ish links deliver
        track.add(sample(t=1_795_000_000.0 + t, alt_m=t))
    base = 1_795_000_000.0
    assert track.nearest(base + 11.4).alt_m == 11.0
    assert track.nearest(base + 11.6).alt_m == 12.0
    assert track.nearest(base + 14.5) is None and track.nearest(base + 8.0) is None
    track.add(sample(t=base + 200))  # older than keep_s behind the newest: forgotten
    assert len(track) == 1
    meta = {}
    assert stamp(meta, base + 200.25, track)["dt_s"] == 0.25 and meta["telemetry"]["lat"] == LAT


def test_sidecar_file_and_its_errors(tmp_path):
    good = tmp_path / "flight.jsonl"
    good.write_text("\n".join(json.dumps(sample(t=1_795_000_000.0 + i).model_dump()) for i in range(5)) + "\n")
    assert len(TelemetryTrack.from_sidecar(good)) == 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(sample().model_dump()) + "\n{\"lat\": 1}\n")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        TelemetryTrack.from_sidecar(bad)


@pytest.mark.integration
def test_mqtt_telemetry_stamps_the_frames_of_the_drone_camera(mosquitto, publisher):
    cfg = SensorsFile.model_validate({
        "mqtt": {"enabled": True, "host": mosquitto[0], "port": mosquitto[1],
                 "client_id": f"lookout-test-{time.monotonic_ns()}", "persistent_session": False},
        "drones": [{"camera": "drone-1", "drone_id": "m30t-1", "max_gap_s": 5}],
    })
    rt = SensorRuntime(cfg, site="demo").start()
    cam = CameraConfig(id="drone-1", kind="drone", url="generated://scene?fps=10", analysis_fps=5)
    try:
        assert rt.mqtt.wait_connected(10)
        publisher.publish("lookout/drones/m30t-1/telemetry", b"garbage")
        publisher.publish("lookout/drones/unknown/telemetry", sample(t=time.time()).model_dump())
        with WorkerSupervisor([cam]) as sup:
            stamped = []
            deadline = time.monotonic() + 30
            while len(stamped) < 5 and time.monotonic() < deadline:
                publisher.publish("lookout/drones/m30t-1/telemetry", sample(t=time.time(), alt_m=80).model_dump())
                for frame in sup.frames(timeout=1.0, max_s=0.5):
                    rt.on_frame(frame)
                    if "telemetry" in frame.meta:
                        stamped.append(frame)
        assert len(stamped) >= 5, "no frame got telemetry"
        tel = stamped[-1].meta["telemetry"]
        assert tel["alt_m"] == 80 and abs(tel["dt_s"]) <= 5
        wait_for(lambda: rt.telemetry_rejected == 2)
    finally:
        rt.stop()
