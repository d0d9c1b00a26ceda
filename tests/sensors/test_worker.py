"""The real worker with sensors and stream health: decoder processes, MQTT, the outbox and the
embedded bus. A camera lost for longer than `lost_after_s` becomes one low-severity alert."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from alerts.site import SiteFile
from ingest.config import CamerasFile
from ingest.generated import write_generated_video
from ingest.health import StreamHealth
from ingest.health_events import HEALTH_TOPIC, CameraHealthConfig, CameraHealthTracker
from ingest.sensors.config import SensorsFile
from ingest.siteconfig import WorkerConfig
from ingest.worker import Worker
from rules.config import RulesFile
from tests.sensors.conftest import bus_url, free_port, wait_alerts, wait_records
from tests.support.rtsp_server import RtspServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
T0 = 1_795_000_000.0


def test_health_tracker_one_alert_per_outage_with_a_stable_id():
    cfg = CameraHealthConfig(lost_after_s=30, publish_every_s=10)
    tracker = CameraHealthTracker("demo", cfg)

    def at(t, state):
        return tracker.update({"cam": StreamHealth("cam", state=state)}, T0 + t)

    assert at(0, "live")[1] == []
    assert at(5, "lost")[1] == [] and at(35, "lost")[1] == []
    records, [alert] = at(36, "stalled")
    assert (alert.rule.kind, alert.rule.severity, alert.source.kind) == ("camera_health", "low", "camera")
    assert alert.started_at.timestamp() == T0 + 5 and alert.evidence["not_live_s"] == 31
    assert [r["state"] for r in records] == ["stalled"]  # a state change is always published
    assert at(100, "lost")[1] == []  # one alert per outage
    assert at(101, "live")[1] == []
    _, [second] = at(150, "lost") and at(181, "lost")
    assert second.alert_id != alert.alert_id
    # Another worker (or a restart) that saw the same outage start gives the same id.
    again = CameraHealthTracker("demo", cfg)
    again.update({"cam": StreamHealth("cam", state="lost")}, T0 + 5)
    assert again.update({"cam": StreamHealth("cam", state="lost")}, T0 + 40)[1][0].alert_id == alert.alert_id
    assert at(200, "ended")[1] == []  # a finished file is not an outage


def test_health_records_redact_credentials():
    tracker = CameraHealthTracker("demo", CameraHealthConfig())
    h = StreamHealth("cam", state="lost", error="cannot open rtsp://admin:secret@10.0.0.5/h264")
    [record], _ = tracker.update({"cam": h}, T0)
    assert "secret" not in json.dumps(record) and "rtsp://***@10.0.0.5" in record["error"]


def _config(tmp_path: Path, cameras: list[dict]) -> WorkerConfig:
    cams = CamerasFile.model_validate({"detector": {"kind": "fake"}, "cameras": cameras})
    site = SiteFile.model_validate({"site": {"id": "demo", "name": "Demo", "timezone": "UTC"}})
    return WorkerConfig(tmp_path, site, cams, RulesFile())


class RunningWorker:
    def __init__(self, worker: Worker):
        self.worker = worker
        self.thread = threading.Thread(target=worker.run, kwargs={"duration_s": 150}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.worker

    def __exit__(self, *exc):
        self.worker.stop()
        self.thread.join(30)
        assert not self.thread.is_alive()


def test_unreachable_camera_becomes_a_camera_health_alert(tmp_path):
    url = bus_url(tmp_path)
    cfg = _config(tmp_path, [{"id": "gate", "url": f"rtsp://user:pw@127.0.0.1:{free_port()}/none",
                              "open_timeout_s": 1, "read_timeout_s": 1}])
    health = CameraHealthConfig(lost_after_s=2, publish_every_s=1)
    with RunningWorker(Worker(cfg, data_dir=tmp_path / "data", bus_url=url, camera_health=health)):
        [alert] = wait_alerts(url, lambda a: len(a) >= 1, timeout=60)
        assert (alert.source.kind, alert.source.id) == ("camera", "gate")
        assert (alert.rule.id, alert.rule.kind, alert.rule.severity) == ("camera-health", "camera_health", "low")
        records = [json.loads(v) for v in wait_records(url, HEALTH_TOPIC, lambda v: len(v) >= 2)]
        assert {r["camera_id"] for r in records} == {"gate"}
        assert all(r["state"] in ("connecting", "lost", "stalled") for r in records)
        assert "pw" not in json.dumps(records) + alert.to_json().decode()


@pytest.fixture(scope="module")
def scene_mp4(tmp_path_factory) -> Path:
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is missing")
    return write_generated_video(tmp_path_factory.mktemp("video") / "scene.mp4", seconds=60, fps=10)


def test_rtsp_server_killed_gives_one_alert_and_live_again_is_published(tmp_path, scene_mp4):
    url = bus_url(tmp_path)
    health = CameraHealthConfig(lost_after_s=3, publish_every_s=1)
    with RtspServer(file=scene_mp4) as server:
        cfg = _config(tmp_path, [{"id": "gate", "url": server.url, "open_timeout_s": 2, "read_timeout_s": 2}])
        with RunningWorker(Worker(cfg, data_dir=tmp_path / "data", bus_url=url, camera_health=health)):
            wait_records(url, HEALTH_TOPIC, lambda v: any(json.loads(x)["state"] == "live" for x in v), timeout=60)
            server.stop()
            [alert] = wait_alerts(url, lambda a: len(a) >= 1, timeout=60)
            assert alert.rule.kind == "camera_health" and alert.source.id == "gate"
            server.start()

            def live_after_outage(values):
                states = [json.loads(v)["state"] for v in values]
                lost_at = max((i for i, s in enumerate(states) if s != "live"), default=-1)
                return lost_at >= 0 and "live" in states[lost_at:]
            wait_records(url, HEALTH_TOPIC, live_after_outage, timeout=60)
        # The camera came back: still exactly one alert for that outage.
        assert len(wait_alerts(url, lambda a: len(a) >= 1)) == 1


def test_worker_with_sensors_confirms_a_fence_alarm_with_its_own_video(tmp_path, mosquitto, publisher):
    """Real worker: generated scene (people walking) + marker detector + tracker; a fence
    vibration over MQTT on that camera is confirmed by the tracks → high."""
    url = bus_url(tmp_path)
    cfg = _config(tmp_path, [{"id": "yard", "url": "generated://scene?fps=10", "analysis_fps": 5}])
    sensors = SensorsFile.model_validate({
        "sensors": [{"id": "fence-1", "kind": "fence_vibration", "camera": "yard"},
                    {"id": "panic-1", "kind": "panic_button"}],
        "mqtt": {"enabled": True, "host": mosquitto[0], "port": mosquitto[1],
                 "client_id": f"lookout-test-{time.monotonic_ns()}", "persistent_session": False},
        "rules": [{"id": "fence", "kind": "video_confirmed", "sensor_kinds": ["fence_vibration"], "window_s": 10},
                  {"id": "panic", "kind": "sensor_alarm", "sensor_kinds": ["panic_button"], "severity": "critical"}],
        "camera_health": {"enabled": False},
    })
    worker = Worker(cfg, data_dir=tmp_path / "data", bus_url=url, sensors=sensors)
    with RunningWorker(worker):
        deadline = time.monotonic() + 30
        while worker.frames < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.frames >= 10, "the worker analysed no frames"
        # The worker subscribes once its MQTT connection is up, which this test cannot see: it
        # repeats the same messages (same t) until they land, as a QoS 1 redelivery would; the
        # rules merge the repeats and the outbox dedupes the alert ids.
        t = time.time()
        deadline = time.monotonic() + 30
        while worker.sensor_runtime is None or not worker.sensor_runtime.intake.accepted >= 2:
            assert time.monotonic() < deadline, "the worker took no sensor message"
            publisher.publish("lookout/sensors/fence-1", {"active": True, "t": t})
            publisher.publish("lookout/sensors/panic-1", {"active": True, "t": t})
            time.sleep(0.2)
        alerts = wait_alerts(url, lambda a: len(a) >= 2, timeout=30)
    assert len(alerts) == 2
    by_rule = {a.rule.id: a for a in alerts}
    assert by_rule["panic"].rule.severity == "critical"
    fence = by_rule["fence"]
    assert fence.rule.severity == "high" and fence.evidence["confirmed"] is True
    assert fence.evidence["video_camera"] == "yard" and fence.objects[0].label == "person"
