"""ONVIF cameras as a sensor transport: one PullPoint poller thread per camera, events to a sink.

The sink is normally `SensorIntake` (ingest/sensors/intake.py), the one door every sensor event
goes through: `intake_sink(intake)` hands each SensorEvent over as a payload dict with
source="onvif", so sensors.yaml fills camera, zone and location and rejects unknown ids exactly
as for MQTT and webhook events. A camera that cannot be reached is retried with a backoff and
never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from rules.sensor_events import SensorEvent, SensorPayloadError

from ingest.config import CameraConfig
from ingest.onvif.client import OnvifCamera, OnvifError
from ingest.onvif.pullpoint import PullPointPoller

log = logging.getLogger(__name__)
CONNECT_BACKOFF_START_S, CONNECT_BACKOFF_CAP_S = 1.0, 30.0


def intake_sink(intake) -> Callable[[SensorEvent], None]:
    """Sink that submits to a SensorIntake; its rejections are already counted and logged there."""

    def submit(ev: SensorEvent) -> None:
        try:
            intake.submit(ev.model_dump(exclude={"source"}, exclude_none=True), source="onvif",
                          sensor_id=ev.sensor_id)
        except SensorPayloadError:
            pass

    return submit


class OnvifEventSource:
    """Runs `camera.events()` for every enabled camera whose `onvif.events` is true."""

    def __init__(self, cameras: Iterable[CameraConfig], sink: Callable[[SensorEvent], object],
                 connect: Callable[[CameraConfig], OnvifCamera] | None = None):
        self.cameras = [c for c in cameras if c.enabled and c.onvif is not None and c.onvif.events]
        self.sink = sink
        self.connect = connect or (lambda cam: OnvifCamera.from_config(cam.onvif, cam.id))
        self.pollers: dict[str, PullPointPoller] = {}
        self.connect_failures: dict[str, int] = {c.id: 0 for c in self.cameras}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> OnvifEventSource:
        for cam in self.cameras:
            t = threading.Thread(target=self._run, args=(cam,), name=f"onvif-events-{cam.id}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every poller (each unsubscribes after its pull in flight) and join the threads."""
        self._stop.set()
        with self._lock:
            pollers = list(self.pollers.values())
        for p in pollers:
            p.close()
        for t in self._threads:
            t.join(timeout)

    def _run(self, cam: CameraConfig) -> None:
        backoff = CONNECT_BACKOFF_START_S
        while not self._stop.is_set():
            try:
                camera = self.connect(cam)
            except OnvifError as exc:
                self.connect_failures[cam.id] += 1
                log.warning("camera %s: ONVIF events not started (%s), retrying in %.0f s", cam.id, exc.reason, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, CONNECT_BACKOFF_CAP_S)
                continue
            cfg = cam.onvif
            poller = camera.events(pull_timeout_s=cfg.pull_timeout_s, message_limit=cfg.message_limit,
                                   subscription_s=cfg.subscription_s)
            with self._lock:
                self.pollers[cam.id] = poller
            if self._stop.is_set():
                poller.close()
            for ev in poller:  # ends when stop() closes it; camera trouble is handled inside
                try:
                    self.sink(ev)
                except Exception:  # a failing sink must not end this camera's events
                    log.exception("camera %s: sensor sink failed for %s", cam.id, ev.sensor_id)
            return
