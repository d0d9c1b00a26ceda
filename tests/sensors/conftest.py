"""Fixtures for sensor tests: a private Mosquitto, an embedded bus, and helpers to read it."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from paho.mqtt import client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC, Alert

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
WEBHOOK_TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory):
    """Our own broker on a free loopback port; max_queued_messages 0 so QoS 1 bursts are kept
    (TESTING.md: the default 1000 silently drops them)."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is missing (apt-get install mosquitto)")
    port = free_port()
    conf = tmp_path_factory.mktemp("mosquitto") / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\npersistence false\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"mosquitto exited: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.05)
    yield ("127.0.0.1", port)
    proc.terminate()
    proc.wait(10)


class Publisher:
    """A real MQTT client that publishes with QoS 1 and waits for the broker's PUBACK."""

    def __init__(self, host: str, port: int):
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{time.monotonic_ns()}")
        self.client.connect(host, port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | str | dict) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto):
    p = Publisher(*mosquitto)
    yield p
    p.close()


def bus_url(tmp_path: Path) -> str:
    return f"embedded://{tmp_path / 'bus.db'}"


def wait_records(url: str, topic: str, pred, timeout: float = 20.0, group: str | None = None) -> list:
    """Poll `topic` on the bus until `pred(all values so far)` holds; returns the values."""
    consumer = open_bus(url).consumer([topic], group or f"test-{time.monotonic_ns()}")
    values: list = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            values += [r.value for r in consumer.poll(timeout=0.2)]
            if pred(values):
                return values
        raise AssertionError(f"condition not met on {topic} within {timeout} s; got {len(values)} record(s)")
    finally:
        consumer.close()


def wait_alerts(url: str, pred, timeout: float = 20.0) -> list[Alert]:
    out: list[Alert] = []

    def check(values):
        out[:] = [Alert.from_json(v) for v in values]
        return pred(out)

    wait_records(url, ALERTS_TOPIC, check, timeout)
    return out


def wait_for(pred, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")
