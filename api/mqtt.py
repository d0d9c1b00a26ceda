"""MQTT bridge: unit positions in (`lookout/units/<id>/position`), orders out (`lookout/units/<id>/orders`).

One paho-mqtt 2.x client in its own network thread (`loop_start`), reconnecting by itself. Several
API instances share the position subscription (`$share/<group>/...`), so each report is applied
once. Orders go out with QoS 1; the broker's PUBACK is recorded as a delivery receipt (the broker
holds the message for a unit's persistent session, so "delivered to the broker" is the
guarantee MQTT gives us).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from api.dispatch.engine import DispatchEngine, UnknownResponder
from api.positions import PositionIn
from api.ratelimit import RateLimiter
from api.receipts import Receipts

log = logging.getLogger(__name__)
POSITION_TOPIC = "lookout/units/+/position"


def orders_topic(unit_id: str) -> str:
    return f"lookout/units/{unit_id}/orders"


class MqttBridge:
    def __init__(self, url: str, engine: DispatchEngine, limiter: RateLimiter, receipts: Receipts | None = None,
                 group: str = "lookout-api", on_error: Callable[[str], None] | None = None):
        u = urlparse(url)
        if u.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"mqtt_url must be mqtt://host:port, got {url!r}")
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 1883
        self.engine, self.limiter, self.receipts, self.group = engine, limiter, receipts, group
        self.stats = {"positions": 0, "rejected": 0, "rate_limited": 0, "published": 0, "acked": 0}
        self._inflight: dict[int, tuple[dict[str, Any], str]] = {}
        self._lock = threading.RLock()  # RLock: a publish from paho's own thread must not deadlock
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"lookout-api-{uuid.uuid4().hex[:8]}")
        if u.username:
            self.client.username_pw_set(u.username, u.password)
        self.client.on_connect, self.client.on_message = self._on_connect, self._on_message
        self.client.on_publish, self.client.on_disconnect = self._on_publish, self._on_disconnect
        self.client.reconnect_delay_set(1, 30)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    # ---- in: positions ------------------------------------------------------------------------

    def _on_connect(self, client, _userdata, _flags, reason, _props) -> None:  # noqa: ANN001
        if reason.is_failure:
            log.warning("mqtt: connect to %s:%d refused: %s", self.host, self.port, reason)
            return
        # Subscribing here, not once: a reconnect gets a clean session and must subscribe again.
        client.subscribe(f"$share/{self.group}/{POSITION_TOPIC}", qos=1)
        self.connected.set()
        log.info("mqtt: connected to %s:%d", self.host, self.port)

    def _on_disconnect(self, _client, _userdata, _flags, reason, _props) -> None:  # noqa: ANN001
        self.connected.clear()
        log.warning("mqtt: disconnected (%s); reconnecting", reason)

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        unit = parts[2] if len(parts) == 4 else ""
        try:
            body = PositionIn.model_validate_json(msg.payload)
        except ValidationError as exc:
            self.stats["rejected"] += 1
            log.warning("mqtt: bad position on %s: %s", msg.topic, exc.errors()[0]["msg"])
            return
        if not self.limiter.allow(unit):
            self.stats["rate_limited"] += 1
            return
        try:
            self.engine.update_position(unit, body.lat, body.lon)
            self.stats["positions"] += 1
        except UnknownResponder:
            self.stats["rejected"] += 1
            log.warning("mqtt: position for unknown unit %r on %s", unit, msg.topic)
        except Exception:  # the network thread must survive a database hiccup; the next report retries
            log.exception("mqtt: position update failed")

    # ---- out: orders --------------------------------------------------------------------------

    def publish(self, ev: dict[str, Any]) -> None:
        """Push channel: order events to their unit's topic, QoS 1. Thread-safe, non-blocking."""
        order = ev.get("order")
        if ev.get("type") != "order" or not order:
            return
        topic = orders_topic(order["responder_id"])
        with self._lock:  # the PUBACK may arrive before publish() returns: register under the lock
            info = self.client.publish(topic, json.dumps(ev, separators=(",", ":")), qos=1)
            if info.rc == mqtt.MQTT_ERR_SUCCESS or info.rc == mqtt.MQTT_ERR_NO_CONN:
                # Not connected: paho queues QoS 1 messages and sends them after the reconnect.
                self._inflight[info.mid] = (ev, topic)
        self.stats["published"] += 1

    def _on_publish(self, _client, _userdata, mid: int, reason, _props) -> None:  # noqa: ANN001
        with self._lock:
            ev, topic = self._inflight.pop(mid, (None, ""))
        if ev is None:
            return
        self.stats["acked"] += 1
        if self.receipts is not None:
            ok = not getattr(reason, "is_failure", False)
            self.receipts.record_event(ev, "mqtt", topic, "delivered" if ok else "failed",
                                       {"reason": str(reason)})
