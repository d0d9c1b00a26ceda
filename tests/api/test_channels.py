"""Push channels and positions over the real Mosquitto (127.0.0.1:1883) and signed webhooks to a
loopback HTTP gateway; delivery receipts recorded per channel."""

from __future__ import annotations

import json
import queue
import socket
import threading
import uuid
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import WebhookTarget
from api.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from tests.api.conftest import make_alert, wait_until
from tests.api.server import free_port

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
SECRET = "gateway-shared-secret-0123"
OP = {"Authorization": "Bearer tok-operator"}


def _mqtt_up() -> bool:
    try:
        socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=2).close()
        return True
    except OSError:
        return False


pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not _mqtt_up(), reason=f"no MQTT broker at {MQTT_HOST}:{MQTT_PORT}")]


class Gateway:
    """A push gateway on loopback: verifies the signature like a real one would."""

    def __init__(self, clock):
        self.received: queue.Queue[tuple[dict, bool]] = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(SECRET, self.headers[TIMESTAMP_HEADER], body, self.headers[SIGNATURE_HEADER], clock())
                outer.received.put((json.loads(body), ok))
                self.send_response(204 if ok else 401)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Device:
    """A unit's MQTT client: subscribes to its orders, publishes positions."""

    def __init__(self, unit: str):
        self.orders: queue.Queue[dict] = queue.Queue()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{unit}-{uuid.uuid4().hex[:6]}")
        self.subscribed = threading.Event()
        self.c.on_message = lambda _c, _u, msg: self.orders.put(json.loads(msg.payload))
        self.c.on_subscribe = lambda *_a: self.subscribed.set()
        self.c.connect(MQTT_HOST, MQTT_PORT)
        self.c.loop_start()
        self.c.subscribe(f"lookout/units/{unit}/orders", qos=1)
        assert self.subscribed.wait(10)

    def send_position(self, unit: str, payload) -> None:
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        self.c.publish(f"lookout/units/{unit}/position", body, qos=1).wait_for_publish(10)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def gateway(clock):
    g = Gateway(clock)
    yield g
    g.close()


@pytest.fixture
def app_state(settings, clock, gateway):
    settings.mqtt_url = f"mqtt://{MQTT_HOST}:{MQTT_PORT}"
    settings.group_id = f"test-{uuid.uuid4().hex[:8]}"
    settings.webhooks = [
        WebhookTarget(url=gateway.url, secret=SECRET, units=["patrol-1"]),
        # A gateway that is down: the receipt says failed, the other channels are not held up.
        WebhookTarget(url=f"http://127.0.0.1:{free_port()}/push", secret=SECRET, units=["patrol-1"]),
    ]
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        c.app_state = app.state
        assert app.state.mqtt.connected.wait(10), "bridge did not connect to the broker"
        yield c


def _position(state, unit):
    with state.sessions() as s:
        from api.store import ResponderRow

        r = s.get(ResponderRow, unit)
        return (r.lat, r.lon)


def test_positions_in_orders_out_and_receipts(app_state, gateway, clock):
    client, state = app_state, app_state.app_state
    bridge = state.mqtt
    dev = Device("patrol-1")
    try:
        dev.send_position("patrol-1", {"lat": 31.2311, "lon": 121.4701})
        wait_until(lambda: _position(state, "patrol-1") == (31.2311, 121.4701), what="position via MQTT")
        dev.send_position("patrol-1", b"not json")
        dev.send_position("patrol-1", {"lat": 123, "lon": 0})  # out of range
        dev.send_position("ghost", {"lat": 31.0, "lon": 121.0})  # unknown unit
        wait_until(lambda: bridge.stats["rejected"] == 3, what="bad positions rejected")
        units = {u["id"]: u for u in client.get("/api/responders", headers=OP).json()}
        assert units["patrol-1"]["position_stale"] is False

        # An order for patrol-1 goes out on MQTT (QoS 1) and to the gateway, signed.
        state.engine.handle_alert(make_alert(severity="high"))
        got = dev.orders.get(timeout=10)
        assert got["type"] == "order" and got["order"]["responder_id"] == "patrol-1"
        assert got["order"]["state"] == "pending" and got["order"]["position_source"] == "live"
        body, signature_ok = gateway.received.get(timeout=10)
        assert signature_ok and body["order"]["id"] == got["order"]["id"]
        order_id = got["order"]["id"]
        # The guard's order is not for this gateway (units filter) nor this device's topic. QoS 1 is
        # at-least-once: a duplicate of patrol-1's own order may come (a retransmit under load).
        while not dev.orders.empty():
            assert dev.orders.get_nowait()["order"]["id"] == order_id
        while not gateway.received.empty():
            assert gateway.received.get_nowait()[0]["order"]["id"] == order_id

        def receipts():
            state.receipts.flush()
            rows = client.get(f"/api/orders/{order_id}/deliveries", headers=OP).json()
            return {(r["channel"], r["status"]) for r in rows}

        wait_until(lambda: receipts() >= {("mqtt", "delivered"), ("webhook", "delivered"), ("webhook", "failed")},
                   what="receipts for mqtt and both webhooks")
        state.webhooks.join()
        # The unit acknowledges over REST: the change reaches the device too.
        assert client.post(f"/api/orders/{order_id}/acknowledge", headers={"Authorization": "Bearer tok-unit"}).status_code == 200
        while (ev := dev.orders.get(timeout=10))["order"]["state"] != "acknowledged":
            assert ev["order"]["id"] == order_id  # a late duplicate of the pending event

        # Rate limit applies to MQTT as to REST (burst 10 on the frozen clock; one already used).
        for i in range(12):
            dev.send_position("patrol-1", {"lat": 31.23, "lon": 121.47 + i * 1e-5})
        wait_until(lambda: bridge.stats["positions"] + bridge.stats["rate_limited"] == 13, what="positions counted")
        assert (bridge.stats["positions"], bridge.stats["rate_limited"]) == (10, 3)
    finally:
        dev.close()


def test_signature_scheme():
    body = b'{"a":1}'
    sig = sign(SECRET, "1000", body)
    assert verify(SECRET, "1000", body, sig, now=1100)
    assert not verify(SECRET, "1000", body + b" ", sig, now=1100)  # body changed
    assert not verify("another-secret-0123456", "1000", body, sig, now=1100)  # wrong key
    assert not verify(SECRET, "1000", body, sig, now=2000)  # replayed too late
    assert not verify(SECRET, "soon", body, sig, now=1000)
