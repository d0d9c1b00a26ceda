"""`lookout worker`: decoder processes → per-camera pipelines → outbox → bus.

Alerts go to the local outbox first (durable) and a relay thread moves them to the bus, so a
broker outage delays alerts but never loses them (DESIGN.md, delivery guarantees).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from alerts.bus import BusError, open_bus
from alerts.model import ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC
from alerts.outbox import Outbox, OutboxRelay
from alerts.snapshot import SnapshotStore

from ingest.assembly import DetectorCache, build_pipeline
from ingest.config import CameraConfig
from ingest.evidence_recorder import open_recorder
from ingest.lifecycle import AlertLifecycle
from ingest.health_events import CameraHealthConfig, CameraHealthTracker, HealthEvents
from ingest.latest_frames import LatestFrames
from ingest.rules_reload import RulesWatcher
from ingest.siteconfig import WorkerConfig, ground_cameras
from ingest.supervisor import WorkerSupervisor

log = logging.getLogger("lookout.worker")


@dataclass
class WorkerReport:
    frames: int
    alerts: int
    outbox_pending: int
    detectors: list[str]


class Worker:
    def __init__(
        self,
        cfg: WorkerConfig,
        *,
        data_dir: Path,
        bus_url: str,
        camera_ids: list[str] | None = None,
        worker_id: str | None = None,
        health_every_s: float = 10.0,
        sensors=None,
        camera_health: CameraHealthConfig | None = None,
    ):
        self.cfg = cfg
        self.data_dir = Path(data_dir)
        self.bus_url = bus_url
        # Static assignment: each camera is decoded by exactly one worker (docs/workers.md).
        cams = [c for c in cfg.cameras.cameras if c.enabled and c.worker == worker_id]
        if camera_ids:
            unknown = set(camera_ids) - {c.id for c in cams}
            if unknown:
                raise KeyError(f"unknown, disabled or other workers' cameras: {', '.join(sorted(unknown))}")
            cams = [c for c in cams if c.id in camera_ids]
        self.cameras: list[CameraConfig] = cams
        self.health_every_s = health_every_s
        # sensors.yaml (ingest.sensors.config.SensorsFile) or None; its camera_health section
        # wins over the default (health on the bus, alert after 60 s lost).
        self.sensors_cfg = sensors
        self.sensor_runtime = None  # ingest.sensors.runtime.SensorRuntime while running
        self.pipelines: dict = {}  # camera id -> CameraPipeline while running
        self.evidence = None  # ingest.evidence_recorder.EvidenceRecorder while running
        self.onvif_events = None  # ingest.onvif.adapter.OnvifEventSource when cameras ask for events
        self.camera_health = camera_health or (sensors.camera_health if sensors is not None else CameraHealthConfig())
        self.keep_sent_s = 24 * 3600.0  # sent outbox rows kept a day, for forensics
        self.stop_event = threading.Event()
        self.alerts = 0
        self.frames = 0

    def _open_relay(self) -> tuple[Outbox, OutboxRelay]:
        outbox = Outbox(self.data_dir / "outbox.db")
        bus = open_bus(self.bus_url)
        try:
            bus.ensure_topics([ALERTS_TOPIC, DISPATCH_EVENTS_TOPIC, DEAD_LETTER_TOPIC])
        except BusError as exc:
            # Not fatal: alerts wait in the outbox until the broker is back.
            log.warning("bus not ready (%s); alerts will wait in the outbox", exc)
        relay = OutboxRelay(outbox, bus, topic=ALERTS_TOPIC)
        relay.start()
        return outbox, relay

    def run(self, duration_s: float | None = None) -> WorkerReport:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        outbox, relay = self._open_relay()
        snapshots = SnapshotStore(self.data_dir / "snapshots")
        latest = LatestFrames(self.data_dir / "frames")
        detectors = DetectorCache(self.cfg.base_dir)
        pipelines = {c.id: build_pipeline(self.cfg, c, detectors, snapshots) for c in self.cameras}
        evidence = self.evidence = open_recorder(self.cfg.site.evidence, self.data_dir)  # clips; None when off
        self.pipelines = pipelines
        lifecycles = {c.id: AlertLifecycle(self.cfg.site.lifecycle) for c in self.cameras}
        watcher = RulesWatcher(self.cfg.base_dir / "rules.yaml", {c.id for c in self.cfg.cameras.cameras},
                               ground_cameras(self.cfg.cameras))
        supervisor = WorkerSupervisor(self.cameras, self.cfg.base_dir)
        health_events = self._health_events(outbox)
        try:
            sensors = self._start_sensors(outbox)
        except Exception:  # e.g. the webhook's port is taken or its token is not set
            if health_events is not None:
                health_events.stop()
            relay.stop()
            raise
        supervisor.start()
        deadline = time.monotonic() + duration_s if duration_s else None
        next_health = time.monotonic() + self.health_every_s
        log.info("worker started: %d camera(s), bus %s", len(self.cameras), self.bus_url.split("?")[0])
        try:
            while not self.stop_event.is_set():
                if deadline and time.monotonic() >= deadline:
                    break
                # Views on shared memory (no per-frame copy): everything below uses the image
                # before the next frame is pulled, and keepers (evidence clips) copy it.
                for frame in supervisor.frames(timeout=0.5, max_s=2, copy=False):
                    self.frames += 1
                    latest.offer(frame.camera_id, frame.image, frame.t)
                    if sensors is not None:
                        sensors.on_frame(frame)  # drone telemetry into frame.meta
                    alerts = pipelines[frame.camera_id].process(frame)
                    # One alert per condition: re-fires become updates, a gone track an end.
                    alerts = lifecycles[frame.camera_id].process(alerts, pipelines[frame.camera_id].last_tracks, frame.t)
                    if evidence is not None:  # buffer the frame; alerts get their clip URI
                        alerts = evidence.on_frame(frame, pipelines[frame.camera_id], alerts)
                    for alert in alerts:
                        outbox.put(alert)
                        self.alerts += 1
                    if sensors is not None:
                        sensors.on_camera(frame.camera_id, frame.t, pipelines[frame.camera_id].last_tracks, alerts)
                    if self.stop_event.is_set() or (deadline and time.monotonic() >= deadline):
                        break
                if health_events is not None and health_events.due(time.monotonic()):
                    health_events.poll(supervisor.health(), time.time())
                if sensors is not None:
                    sensors.tick()
                self._reload_rules(watcher, pipelines)
                if evidence is not None:
                    evidence.tick()  # retention, in the recorder's thread when due
                if time.monotonic() >= next_health:
                    next_health = time.monotonic() + self.health_every_s
                    self._log_health(supervisor, outbox)
                    outbox.prune(older_than_s=self.keep_sent_s)
        finally:
            if self.onvif_events is not None:
                self.onvif_events.stop()
            if sensors is not None:
                sensors.stop()
            if health_events is not None:
                health_events.stop()
            supervisor.stop()
            for lifecycle in lifecycles.values():  # open alerts end with the worker
                for alert in lifecycle.close_all():
                    outbox.put(evidence.known_clip(alert) if evidence is not None else alert)  # same clip as its start
            if evidence is not None:
                evidence.close()  # clips still collecting are written with the frames they have
            relay.drain(timeout=5)
            relay.stop()
        return WorkerReport(self.frames, self.alerts, outbox.pending_count(), sorted(d.name for d in detectors._by_key.values()))

    def _reload_rules(self, watcher: RulesWatcher, pipelines: dict) -> None:
        rules = watcher.poll()
        if rules is None:
            return
        for cam_id, pipeline in pipelines.items():
            cam_rules = rules.cameras.get(cam_id)
            changes = pipeline.engine.replace(list(cam_rules.rules) if cam_rules else [])
            logging.getLogger("lookout.rules").info("camera %s: rules reloaded: %s", cam_id, changes.summary())

    def _health_events(self, outbox: Outbox) -> HealthEvents | None:
        if not self.camera_health.enabled:
            return None
        tracker = CameraHealthTracker(
            self.cfg.site.site.id, self.camera_health, kinds={c.id: c.kind for c in self.cameras},
            locations={c.id: (c.location.lat, c.location.lon) for c in self.cameras if c.location})
        return HealthEvents(tracker, bus_url=self.bus_url, emit=outbox.put)

    def _start_sensors(self, outbox: Outbox):
        if self.sensors_cfg is None:
            return None
        from ingest.sensors.runtime import SensorRuntime  # paho is only imported when asked for

        site = self.cfg.site.site
        self.sensor_runtime = SensorRuntime(self.sensors_cfg, site=site.id, timezone=site.timezone,
                                            emit=outbox.put, base_dir=self.cfg.base_dir).start()
        if any(c.onvif is not None and c.onvif.events for c in self.cameras):
            from ingest.onvif.adapter import OnvifEventSource, intake_sink  # zeep only when configured

            # Camera-side analytics (motion, tamper, line crossed) enter like any other sensor.
            self.onvif_events = OnvifEventSource(self.cameras, intake_sink(self.sensor_runtime.intake)).start()
        return self.sensor_runtime

    def _log_health(self, supervisor: WorkerSupervisor, outbox: Outbox) -> None:
        for cam_id, h in supervisor.health().items():
            log.info("camera %s: %s", cam_id, h)
        log.info("frames analysed %d, alerts %d, outbox pending %d", self.frames, self.alerts, outbox.pending_count())

    def stop(self) -> None:
        self.stop_event.set()
