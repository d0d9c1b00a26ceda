"""An ONVIF camera in a real worker: its stream comes from GetStreamUri, its events become alerts.

Simulator (SOAP on loopback) → GetStreamUri → a real GStreamer RTSP server → decoder process;
simulator PullPoint → LineDetector/Crossed → sensor rule → Alert v1 in the outbox.
"""

from __future__ import annotations

import sqlite3
import threading

from alerts.model import Alert
from alerts.site import SiteFile
from ingest.config import CamerasFile
from ingest.sensors.config import SensorsFile
from ingest.siteconfig import WorkerConfig
from ingest.worker import Worker
from rules.config import RulesFile
from tests.onvif.conftest import PASSWORD
from tests.support.onvif_sim import OnvifSimulator, SimEvent
from tests.support.rtsp_server import RtspServer

SENSOR = "gate-cam:line_crossed:Gate_line"


def test_worker_streams_and_alerts_from_an_onvif_camera(tmp_path):
    with RtspServer(pattern=True) as rtsp, OnvifSimulator(rtsp_url=rtsp.url, user="operator", password=PASSWORD) as sim:
        cameras = CamerasFile.model_validate({
            "detector": {"kind": "fake"},
            "cameras": [{"id": "gate-cam", "url": "rtsp://127.0.0.1:9/unused-fallback", "analysis_fps": 5,
                         "onvif": {"host": sim.host, "port": sim.port, "user": "operator", "password": PASSWORD,
                                   "pull_timeout_s": 1, "request_timeout_s": 3}}],
        })
        sensors = SensorsFile.model_validate({
            "sensors": [{"id": SENSOR, "kind": "line_crossed", "camera": "gate-cam",
                         "location": {"lat": 31.2305, "lon": 121.474}}],
            "mqtt": {"enabled": False},
            "rules": [{"id": "camera-line", "name": "Camera line crossed", "kind": "sensor_alarm",
                       "sensor_kinds": ["line_crossed"], "severity": "high"}],
        })
        cfg = WorkerConfig(tmp_path, SiteFile.model_validate({"site": {"id": "test", "name": "t"}}),
                           cameras, RulesFile(cameras={}))
        worker = Worker(cfg, data_dir=tmp_path / "data", bus_url=f"embedded://{tmp_path / 'bus.db'}", sensors=sensors)
        sim.emit(SimEvent("tns1:RuleEngine/LineDetector/Crossed", {"Rule": "Gate line"}, {"ObjectId": "7"}))
        stopper = threading.Timer(12, worker.stop)
        stopper.start()
        try:
            worker.run(duration_s=40)
        finally:
            stopper.cancel()
        assert sim.invalid_replies == []
    assert worker.frames > 0, "no frames: the stream URI from ONVIF was not used"
    with sqlite3.connect(tmp_path / "data" / "outbox.db") as db:  # every alert the worker produced
        alerts = [Alert.from_json(v) for (v,) in db.execute("select value from outbox")]
    fired = [a for a in alerts if a.source.kind == "sensor" and a.rule.id == "camera-line"]
    assert fired, [a.rule.id for a in alerts]
    assert fired[0].location.zone == "Gate line"
