"""MQTT adapter: sensor messages (`PREFIX/<sensor_id>`) and drone telemetry
(`PREFIX/<drone_id>/telemetry`) from one broker connection.

paho's network thread calls `_on_message`; everything it does is wrapped so that no payload,
however broken, can raise into paho (an exception there would stop the loop and with it every
sensor of the site). The connection is started asynchronously and paho reconnects by itself, so
a broker that is down at start or restarts later delays sensor events but never stops the worker.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import Counter

from rules.sensor_events import SensorPayloadError

from ingest.sensors.config import MqttConfig

log = logging.getLogger("lookout.sensors.mqtt")
MQTT_CONNECTS = Counter("lookout_sensor_mqtt_connects", "MQTT (re)connections of the sensor adapter")

SensorHandler = Callable[[bytes, str], object]  # (payload, sensor_id)
TelemetryHandler = Callable[[bytes, str], object]  # (payload, drone_id)


class MqttAdapter:
    def __init__(self, cfg: MqttConfig, on_sensor: SensorHandler | None = None,
                 on_telemetry: TelemetryHandler | None = None):
        self.cfg = cfg
        self.on_sensor = on_sensor
        self.on_telemetry = on_telemetry
        self.connected = threading.Event()
        self.messages = 0
        self.errors = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id,
                                   clean_session=not cfg.persistent_session)
        if cfg.username:
            password = os.environ.get(cfg.password_env) if cfg.password_env else None
            self._client.username_pw_set(cfg.username, password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._pending_subs: set[int] = set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)

    @property
    def topics(self) -> list[str]:
        out = []
        if self.on_sensor is not None:
            out.append(f"{self.cfg.sensor_topic}/+")
        if self.on_telemetry is not None:
            out.append(f"{self.cfg.drone_topic}/+/telemetry")
        return out

    def start(self) -> MqttAdapter:
        self._client.connect_async(self.cfg.host, self.cfg.port, keepalive=30)
        self._client.loop_start()
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def wait_connected(self, timeout: float) -> bool:
        """True once connected and subscribed (a message published after that reaches us)."""
        return self.connected.wait(timeout)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT %s:%s refused the connection: %s", self.cfg.host, self.cfg.port, reason_code)
            return
        MQTT_CONNECTS.inc()
        # Subscribing on every connect: after a broker restart without our session the
        # subscriptions would otherwise be gone.
        self._pending_subs = set()
        for topic in self.topics:
            _, mid = client.subscribe(topic, qos=self.cfg.qos)
            self._pending_subs.add(mid)
        log.info("MQTT connected to %s:%s, subscribing to %s", self.cfg.host, self.cfg.port, ", ".join(self.topics))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        # `connected` means "messages published from now on reach us": only after every SUBACK.
        if any(rc.is_failure for rc in reason_codes):
            log.warning("MQTT subscription refused: %s", reason_codes)
            return
        self._pending_subs.discard(mid)
        if not self._pending_subs:
            self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if reason_code != 0:
            log.warning("MQTT connection lost (%s); paho reconnects", reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        self.messages += 1
        try:
            self._route(msg.topic, msg.payload)
        except SensorPayloadError:
            pass  # counted and logged by the intake
        except Exception:  # a bug of ours must not stop paho's loop (and every other sensor)
            self.errors += 1
            log.exception("MQTT message on %s could not be handled", msg.topic)

    def _route(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        sensor_prefix = self.cfg.sensor_topic.split("/")
        drone_prefix = self.cfg.drone_topic.split("/")
        if (self.on_sensor is not None and len(parts) == len(sensor_prefix) + 1
                and parts[:-1] == sensor_prefix):
            self.on_sensor(payload, parts[-1])
        elif (self.on_telemetry is not None and len(parts) == len(drone_prefix) + 2
              and parts[:len(drone_prefix)] == drone_prefix and parts[-1] == "telemetry"):
            self.on_telemetry(payload, parts[-2])
        else:
            log.debug("MQTT message on unexpected topic %s ignored", topic)
