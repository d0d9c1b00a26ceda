"""Sensor messages over real transports (a private Mosquitto, a real HTTP POST) through the
sensor rules into the outbox and onto the embedded bus; bad payloads are refused and counted."""

from __future__ import annotations

import time

import httpx
import pytest
from prometheus_client import REGISTRY

from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC
from alerts.outbox import Outbox, OutboxRelay
from ingest.sensors.config import SensorsFile
from ingest.sensors.runtime import SensorRuntime
from tests.sensors.conftest import WEBHOOK_TOKEN, bus_url, wait_alerts, wait_for

pytestmark = pytest.mark.integration


def rejected(source: str, reason: str) -> float:
    return REGISTRY.get_sample_value("lookout_sensor_rejected_total", {"source": source, "reason": reason}) or 0.0


def sensors_cfg(mqtt_addr=None, webhook=False, **extra) -> SensorsFile:
    cfg = {
        "sensors": [
            {"id": "kiosk-panic", "kind": "panic_button", "location": {"lat": 31.23, "lon": 121.47}},
            {"id": "fence-east-01", "kind": "fence_vibration", "camera": "plaza", "zone": "east"},
        ],
        "rules": [
            {"id": "panic", "kind": "sensor_alarm", "sensor_kinds": ["panic_button"], "severity": "critical"},
            {"id": "fence", "kind": "video_confirmed", "sensor_kinds": ["fence_vibration"], "window_s": 1,
             "unconfirmed_severity": "medium"},
        ],
    }
    if mqtt_addr:
        cfg["mqtt"] = {"enabled": True, "host": mqtt_addr[0], "port": mqtt_addr[1],
                       "client_id": f"lookout-test-{time.monotonic_ns()}", "persistent_session": False}
    if webhook:
        cfg["webhook"] = {"enabled": True, "port": 0}
    return SensorsFile.model_validate(cfg | extra)


@pytest.fixture
def delivery(tmp_path):
    """Outbox + relay onto an embedded bus, as in the worker."""
    url = bus_url(tmp_path)
    outbox = Outbox(tmp_path / "outbox.db")
    relay = OutboxRelay(outbox, open_bus(url), topic=ALERTS_TOPIC, idle_wait=0.05).start()
    yield url, outbox
    relay.stop()
    outbox.close()


def test_mqtt_panic_button_becomes_a_critical_sensor_alert_on_the_bus(mosquitto, publisher, delivery):
    url, outbox = delivery
    rt = SensorRuntime(sensors_cfg(mosquitto), site="demo", emit=outbox.put).start()
    try:
        assert rt.mqtt.wait_connected(10)
        t = time.time()
        publisher.publish("lookout/sensors/kiosk-panic", {"kind": "panic_button", "active": True, "t": t})
        [alert] = wait_alerts(url, lambda a: len(a) >= 1)
        assert (alert.source.kind, alert.source.id) == ("sensor", "kiosk-panic")
        assert (alert.rule.id, alert.rule.kind, alert.rule.severity) == ("panic", "sensor_alarm", "critical")
        assert abs(alert.started_at.timestamp() - t) < 1e-3
        assert (alert.location.lat, alert.location.lon) == (31.23, 121.47)  # from sensors.yaml
        # QoS 1 may deliver twice: the same message gives the same alert id, the outbox keeps one.
        publisher.publish("lookout/sensors/kiosk-panic", {"kind": "panic_button", "active": True, "t": t})
        wait_for(lambda: rt.intake.accepted == 2)
        assert outbox.put(alert) is False
    finally:
        rt.stop()


def test_mqtt_bad_payloads_are_counted_and_the_adapter_keeps_going(mosquitto, publisher, delivery):
    url, outbox = delivery
    rt = SensorRuntime(sensors_cfg(mosquitto), site="demo", emit=outbox.put).start()
    before = {r: rejected("mqtt", r) for r in ("not_json", "invalid", "unknown_sensor", "bad_sensor_id", "unknown_field")}
    try:
        assert rt.mqtt.wait_connected(10)
        publisher.publish("lookout/sensors/kiosk-panic", b"\x00\x01 not json")
        publisher.publish("lookout/sensors/kiosk-panic", {"kind": "panic_button", "t": "yesterday"})
        publisher.publish("lookout/sensors/kiosk-panic", {"kind": "panic_button", "pressed": True})
        publisher.publish("lookout/sensors/stranger", {"kind": "panic_button", "active": True})
        publisher.publish("lookout/sensors/bad id!", {"kind": "panic_button", "active": True})
        publisher.publish("lookout/sensors/kiosk-panic", {"active": True})  # kind from sensors.yaml
        [alert] = wait_alerts(url, lambda a: len(a) >= 1)
        assert alert.source.id == "kiosk-panic" and alert.rule.severity == "critical"
        wait_for(lambda: rt.intake.rejected == 5)
        assert rt.mqtt.errors == 0
        for reason in before:
            assert rejected("mqtt", reason) == before[reason] + 1, reason
    finally:
        rt.stop()


def test_fence_vibration_without_video_is_medium_after_the_window(mosquitto, publisher, delivery):
    url, outbox = delivery
    rt = SensorRuntime(sensors_cfg(mosquitto), site="demo", emit=outbox.put).start()
    try:
        assert rt.mqtt.wait_connected(10)
        t = time.time()
        publisher.publish("lookout/sensors/fence-east-01", {"active": True, "t": t, "payload": {"level": 5}})
        wait_for(lambda: rt.intake.accepted == 1)
        rt.tick(t + 1.5)  # the worker's frame loop does this continuously
        [alert] = wait_alerts(url, lambda a: len(a) >= 1)
        assert (alert.rule.id, alert.rule.severity, alert.location.zone) == ("fence", "medium", "east")
        assert alert.evidence["confirmed"] is False and alert.evidence["payload"] == {"level": 5}
    finally:
        rt.stop()


def test_webhook_post_becomes_an_alert_and_bad_requests_get_reasons(delivery):
    url, outbox = delivery
    rt = SensorRuntime(sensors_cfg(webhook=True), site="demo", emit=outbox.put, webhook_token=WEBHOOK_TOKEN).start()
    auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    before_json = rejected("webhook", "not_json")
    try:
        base = rt.webhook.url
        with httpx.Client(timeout=10) as http:
            r = http.post(f"{base}/kiosk-panic", json={"kind": "panic_button", "active": True}, headers=auth)
            assert r.status_code == 202, r.text
            [alert] = wait_alerts(url, lambda a: len(a) >= 1)
            assert (alert.source.id, alert.rule.severity) == ("kiosk-panic", "critical")

            r = http.post(f"{base}/kiosk-panic", json={"kind": "panic_button"}, headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401
            r = http.post(f"{base}/kiosk-panic", json={"kind": "panic_button"})
            assert r.status_code == 401 and rt.webhook.unauthorized == 2
            r = http.post(f"{base}/kiosk-panic", content=b"{{{", headers=auth)
            assert r.status_code == 400 and r.json()["error"] == "not_json"
            r = http.post(base, json={"kind": "smoke", "sensor_id": "nobody"}, headers=auth)
            assert r.status_code == 400 and r.json()["error"] == "unknown_sensor"
            r = http.post(f"{base}/kiosk-panic", content=b"x" * 70_000, headers=auth)
            assert r.status_code == 413
            r = http.post(f"{base}/a/b", json={}, headers=auth)
            assert r.status_code == 404
            # Still serving after all that.
            r = http.post(base, json={"sensor_id": "fence-east-01", "kind": "fence_vibration"}, headers=auth)
            assert r.status_code == 202
        assert rejected("webhook", "not_json") == before_json + 1
    finally:
        rt.stop()


def test_webhook_refuses_to_start_without_a_token(monkeypatch):
    monkeypatch.delenv("LOOKOUT_SENSOR_TOKEN", raising=False)
    with pytest.raises(ValueError, match="LOOKOUT_SENSOR_TOKEN"):
        SensorRuntime(sensors_cfg(webhook=True), site="demo").start()
