"""The MQTT bridge against a real Mosquitto, from a real bus (Tansu, and the embedded bus via the
`lookout bridge mqtt` command)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.bridges.deepstream import to_deepstream
from alerts.bridges.loop import BridgeLoop
from alerts.bridges.mqtt import MqttBridgeConfig, MqttSink, alert_topic
from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC, Alert
from tests.alerts.conftest import poll_until, sample_alert
from tests.alerts.mqtt_support import Mosquitto, Subscriber
from tests.support.tansu import free_port

pytestmark = pytest.mark.integration


def test_topic_names_are_safe():
    alert = sample_alert(1, camera="gate/north+#")
    assert alert_topic(alert) == "lookout/alerts/test-site/gate_north__/tripwire"


@pytest.mark.timeout(120)
def test_commits_only_after_the_broker_acknowledged(tansu, topic, group_id, tmp_path: Path):
    """The MQTT broker is down: nothing is committed; once it is up, every alert arrives."""
    bus = open_bus(tansu.url)
    bus.ensure_topics([topic])
    alerts = [sample_alert(i, camera=f"cam-{i % 2}") for i in range(20)]
    producer = bus.producer()
    for a in alerts:
        producer.send(topic, a.to_json(), a.key)
    producer.flush(10)
    producer.close()

    port = free_port()  # no broker there yet
    sink = MqttSink(MqttBridgeConfig(port=port, ack_timeout_s=1.0))
    loop = BridgeLoop(bus, sink, group_id, topic=topic, max_backoff=0.5)
    thread = loop.start()
    try:
        while loop.failures < 2:
            thread.join(0.1)
    finally:
        loop.stopping.set()
        thread.join(20)
        sink.close()
    assert loop.delivered == 0

    mosquitto = Mosquitto(tmp_path, port).start()
    subscriber = Subscriber(port)
    sink = MqttSink(MqttBridgeConfig(port=port))
    loop = BridgeLoop(bus, sink, group_id, topic=topic)  # the same group: it re-reads the batch
    thread = loop.start()
    try:
        got = subscriber.wait_for(len(alerts))
    finally:
        loop.stopping.set()
        thread.join(20)
        sink.close()
        subscriber.close()
        mosquitto.stop()
    assert sorted(Alert.from_json(p).alert_id for _, p in got) == sorted(a.alert_id for a in alerts)
    assert {t for t, _ in got} == {"lookout/alerts/test-site/cam-0/tripwire", "lookout/alerts/test-site/cam-1/tripwire"}
    after = bus.consumer([topic], group_id)  # committed after the PUBACKs: nothing left
    try:
        assert poll_until(after, 1, timeout=3) == []
    finally:
        after.close()


@pytest.mark.timeout(120)
def test_lookout_bridge_mqtt_command(tmp_path: Path):
    bus_url = f"embedded://{tmp_path / 'bus.db'}"
    bus = open_bus(bus_url)
    alerts = [sample_alert(i) for i in range(3)]
    producer = bus.producer()
    for a in alerts:
        producer.send(ALERTS_TOPIC, a.to_json(), a.key)
    producer.send(ALERTS_TOPIC, b"not an alert")  # skipped, the bridge goes on
    producer.flush()
    producer.close()
    mosquitto = Mosquitto(tmp_path).start()
    subscriber = Subscriber(mosquitto.port)
    lookout = Path(sys.executable).parent / "lookout"
    proc = subprocess.Popen([str(lookout), "bridge", "mqtt", "--bus", bus_url, "--mqtt-port", str(mosquitto.port),
                             "--payload", "deepstream"], env=dict(os.environ), stderr=subprocess.DEVNULL)
    try:
        got = subscriber.wait_for(3)
    finally:
        proc.send_signal(signal.SIGTERM)  # finishes its batch and stops
        assert proc.wait(timeout=30) == 0
        subscriber.close()
        mosquitto.stop()
    assert [json.loads(p) for _, p in got] == [json.loads(json.dumps(to_deepstream(a))) for a in alerts]
    assert bus.consumer([ALERTS_TOPIC], "lookout-bridge-mqtt").poll(timeout=0.2) == []  # committed
