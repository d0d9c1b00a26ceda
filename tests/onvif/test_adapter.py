"""ONVIF events through the sensor intake: simulator → poller thread → SensorIntake → sink."""

from __future__ import annotations

import threading

from ingest.config import CameraConfig
from ingest.onvif.adapter import OnvifEventSource, intake_sink
from ingest.sensors.config import SensorsFile
from ingest.sensors.intake import SensorIntake
from tests.onvif.conftest import PASSWORD
from tests.support.onvif_sim import SimEvent
from tests.support.rtsp_server import free_port

WAIT_S = 30  # an upper bound for a thread to deliver, not a timing assertion


def _cam(cam_id: str, port: int) -> CameraConfig:
    return CameraConfig(id=cam_id, url="rtsp://127.0.0.1/fallback", onvif={
        "host": "127.0.0.1", "port": port, "user": "operator", "password": PASSWORD,
        "pull_timeout_s": 1, "request_timeout_s": 2})


def test_onvif_events_reach_the_sensor_intake_and_a_dead_camera_does_not_block(sim):
    got, done = [], threading.Event()

    def sink(ev):
        got.append(ev)
        done.set()

    sensors = SensorsFile.model_validate({"sensors": [{
        "id": "gate-cam:line_crossed:Gate_line", "kind": "line_crossed", "camera": "gate-cam",
        "location": {"lat": 52.1, "lon": 4.3}}]})
    intake = SensorIntake(sensors, sink)
    sim.emit(SimEvent("tns1:VideoSource/MotionAlarm", {"Source": "VideoSource_1"}, {"State": "true"}),
             SimEvent("tns1:RuleEngine/LineDetector/Crossed", {"Rule": "Gate line"}, {"ObjectId": "4"}))
    source = OnvifEventSource([_cam("gate-cam", sim.port), _cam("dead-cam", free_port())], intake_sink(intake))
    source.start()
    try:
        assert done.wait(WAIT_S)
    finally:
        source.stop()
    [ev] = got  # the motion sensor is not in sensors.yaml: the intake refused it
    assert (ev.sensor_id, ev.source, ev.zone, ev.camera_id) == (
        "gate-cam:line_crossed:Gate_line", "onvif", "Gate line", "gate-cam")
    assert (ev.location.lat, ev.location.lon) == (52.1, 4.3)  # filled from sensors.yaml
    assert intake.accepted == 1 and intake.rejected == 1
    assert source.connect_failures["dead-cam"] >= 1
    assert sim.unsubscribed == [1]
