"""MQTT bridge: each alert is published with QoS 1 to `lookout/alerts/<site>/<source>/<rule_kind>`.

`deliver` returns only when the broker acknowledged every message (PUBACK); until then the
bridge loop does not commit the batch (alerts.bridges.loop). paho-mqtt reconnects by itself; a
publish that finds no connection fails the batch, which is then delivered again.
Payloads are Alert v1 JSON, or DeepStream-style messages with `payload="deepstream"`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.bridges.deepstream import to_deepstream
from alerts.bridges.loop import BridgeError
from alerts.model import Alert

# `+`, `#` and `/` in an id would change the topic's shape (wildcards, extra levels).
_UNSAFE = re.compile(r"[+#/\x00]")


class MqttBridgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(default="127.0.0.1", description="MQTT broker host")
    port: int = Field(default=1883, ge=1, le=65535, description="MQTT broker port")
    topic_prefix: str = Field(default="lookout/alerts", description="Topic prefix; site/source/rule_kind follow")
    client_id: str = Field(default="", description="MQTT client id; empty: lookout-bridge-<random>")
    username: str | None = Field(default=None, description="MQTT user name, if the broker wants one")
    password: str | None = Field(default=None, description="MQTT password")
    payload: Literal["alert", "deepstream"] = Field(default="alert", description="Alert v1 JSON or DeepStream-style")
    ack_timeout_s: float = Field(default=10.0, gt=0, description="Wait this long for the broker's PUBACKs")
    retain: bool = Field(default=False, description="Publish retained messages (last alert per topic)")


def alert_topic(alert: Alert, prefix: str = "lookout/alerts") -> str:
    parts = (alert.site, alert.source.id, alert.rule.kind)
    return "/".join([prefix.rstrip("/"), *(_UNSAFE.sub("_", p) or "_" for p in parts)])


class MqttSink:
    def __init__(self, config: MqttBridgeConfig) -> None:
        import paho.mqtt.client as mqtt  # only bridges that use MQTT import paho

        self.config = config
        self._connected = threading.Event()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=config.client_id or f"lookout-bridge-{uuid.uuid4().hex[:8]}",
            # A persistent session (kept by the broker across reconnects) only makes sense under a
            # fixed client id; a random one would leave an orphaned session per restart. Unacked
            # messages are re-delivered either way: the batch is not committed without PUBACKs.
            clean_session=not config.client_id,
        )
        if config.username is not None:
            self._client.username_pw_set(config.username, config.password)
        self._client.on_connect = lambda c, u, f, rc, p: self._connected.set() if not rc.is_failure else None
        self._client.on_disconnect = lambda c, u, f, rc, p: self._connected.clear()
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.connect_async(config.host, config.port, keepalive=30)
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _payload(self, alert: Alert) -> bytes:
        if self.config.payload == "deepstream":
            return json.dumps(to_deepstream(alert)).encode()
        return alert.to_json()

    def deliver(self, alerts: list[Alert]) -> None:
        if not self._connected.wait(self.config.ack_timeout_s):
            raise BridgeError(f"not connected to MQTT broker {self.config.host}:{self.config.port}")
        infos = [
            self._client.publish(alert_topic(a, self.config.topic_prefix), self._payload(a), qos=1,
                                 retain=self.config.retain)
            for a in alerts
        ]
        deadline = time.monotonic() + self.config.ack_timeout_s
        for info in infos:
            if info.rc != 0:  # no connection or a full queue: nothing was sent for it
                raise BridgeError(f"MQTT publish failed with rc={info.rc}")
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:
                raise BridgeError(f"MQTT publish failed: {exc}") from exc
            if not info.is_published():
                raise BridgeError(f"no PUBACK from {self.config.host}:{self.config.port} in "
                                  f"{self.config.ack_timeout_s} s")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
