"""Per-camera analysis: motion gate → detector → tracker → fence rules → Alert v1.

The same class runs live in `lookout worker` and offline in `lookout replay`, so what an
engineer sees in a replay is what the worker would have fired.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from alerts.build import alert_from_event
from alerts.model import Alert, Location
from alerts.snapshot import SnapshotStore, annotate
from detectors.base import Detector
from detectors.calibration import GroundMapper
from detectors.config import MotionConfig, TrackerConfig
from detectors.detections import Detections
from detectors.motion import MotionGate
from detectors.tracking import Tracker
from rules.common import event_object
from rules.engine import RuleEngine
from rules.events import RuleEvent

from ingest.config import CameraConfig
from ingest.frame import Frame
from ingest.sensors.drone import TelemetrySample, ground_point

log = logging.getLogger("lookout.pipeline")


@dataclass
class PipelineStats:
    frames: int = 0
    detected_frames: int = 0
    events: int = 0
    detect_s: float = 0.0
    events_by_rule: dict[str, int] = field(default_factory=dict)


class CameraPipeline:
    """Turns one camera's frames into alerts. Not thread-safe: one pipeline per camera."""

    def __init__(
        self,
        camera: CameraConfig,
        *,
        site_id: str,
        detector: Detector,
        motion: MotionConfig,
        tracker: TrackerConfig,
        rules: list,
        snapshots: SnapshotStore | None = None,
        clock_origin: float = 0.0,
        timezone: str = "UTC",
    ):
        self.camera = camera
        self.site_id = site_id
        self.detector = detector
        self.gate = MotionGate(motion) if motion.enabled else None
        self.tracker = Tracker(tracker, fps=camera.analysis_fps)
        # Schedules are local time of the site; the frame clock plus origin gives Unix time.
        self.engine = RuleEngine(camera.id, rules, timezone=timezone, clock_origin=clock_origin)
        self.snapshots = snapshots
        # Seconds to add to a frame's clock to get Unix time (0 for live streams).
        self.clock_origin = clock_origin
        self.stats = PipelineStats()
        self.last_tracks = Detections.empty()
        self._ground: GroundMapper | None = None

    def process(self, frame: Frame) -> list[Alert]:
        self.stats.frames += 1
        image = frame.image
        has_tracks = len(self.last_tracks) > 0
        if self.gate is None or self.gate.check(image, frame.t, has_tracks):
            started = time.perf_counter()
            detections = self.gate.detect(self.detector, image, self.last_tracks) if self.gate else self.detector.detect(image)
            self.stats.detect_s += time.perf_counter() - started
            self.stats.detected_frames += 1
            self.last_tracks = self.tracker.update(detections, frame.t, image=image)
        # With no motion the scene is unchanged: the rules still see the last tracks, so dwell
        # timers keep running on a person who stands still.
        height, width = image.shape[:2]
        # Pixels → lat/lon only for cameras with geofence rules: a drone's telemetry is parsed per frame.
        ground = self._ground_fn(frame, width, height) if self.engine.uses_ground else None
        # Ids split off a taken-over track are new people: no rule state is handed to them.
        events = self.engine.update(self.last_tracks, frame.t, (width, height), ground=ground,
                                    newcomers=self.tracker.last_splits)
        return [self._alert(frame, event) for event in events]

    def _alert(self, frame: Frame, event: RuleEvent) -> Alert:
        self.stats.events += 1
        self.stats.events_by_rule[event.rule_id] = self.stats.events_by_rule.get(event.rule_id, 0) + 1
        loc = self.camera.location
        location = Location(lat=loc.lat if loc else None, lon=loc.lon if loc else None, zone=event.zone)
        alert = alert_from_event(
            event,
            site=self.site_id,
            source_kind=self.camera.kind,
            clock_origin=self.clock_origin,
            location=location,
            media_time=frame.media_time,
        )
        alert = self._with_ground_positions(alert, frame)
        if self.snapshots is not None:
            picture = annotate(
                frame.image,
                objects=event.objects,
                shapes=self.shapes(),
                context=self._context(event),
                title=f"{self.camera.id} | {event.rule_id} ({event.rule_kind}) | "
                f"{alert.observed_at:%Y-%m-%d %H:%M:%S}",
            )
            alert = alert.model_copy(update={"snapshot": self.snapshots.save(alert.alert_id, picture)})
        log.info("alert %s rule=%s camera=%s track=%s", alert.alert_id, event.rule_id, self.camera.id, event.track_id)
        return alert

    def _ground_fn(self, frame: Frame, width: int, height: int):
        """Pixels -> [lat, lon] of this frame for geofence rules: a drone's telemetry stamped in
        `frame.meta`, else the camera's calibration; None when neither is known."""
        if self.camera.kind == "drone":
            tel = frame.meta.get("telemetry")
            if tel is None:
                return None
            sample = TelemetrySample.model_validate({k: v for k, v in tel.items() if k != "dt_s"})
            nan = (float("nan"), float("nan"))  # a pixel at or above the horizon
            return lambda px: np.array(
                [ground_point(sample, u, v, width, height) or nan for u, v in px], dtype=np.float64
            ).reshape(-1, 2)
        if self.camera.calibration is None:
            return None
        if self._ground is None or self._ground.frame_size != (width, height):
            self._ground = GroundMapper(self.camera.calibration, (width, height))
        return self._ground.image_to_geo

    def _with_ground_positions(self, alert: Alert, frame: Frame) -> Alert:
        """Calibrated cameras: each object's lat/lon, and the alert placed at the first object."""
        if self.camera.calibration is None or not alert.objects:
            return alert
        height, width = frame.image.shape[:2]
        if self._ground is None or self._ground.frame_size != (width, height):
            self._ground = GroundMapper(self.camera.calibration, (width, height))
        points = np.array([o.point or ((o.bbox[0] + o.bbox[2]) / 2, o.bbox[3]) for o in alert.objects])
        geo = self._ground.image_to_geo(points)
        objects = [o.model_copy(update={"geo": (float(g[0]), float(g[1]))}) for o, g in zip(alert.objects, geo)]
        location = alert.location.model_copy(update={"lat": float(geo[0][0]), "lon": float(geo[0][1])})
        return alert.model_copy(update={"objects": objects, "location": location})

    def _context(self, event: RuleEvent) -> list:
        """The other tracks in the frame, drawn thin so the operator sees the whole scene."""
        tracks = self.last_tracks
        points = tracks.anchors()
        involved = {o.track_id for o in event.objects}
        return [event_object(tracks, i, points[i]) for i in range(len(tracks)) if int(tracks.tracker_id[i]) not in involved]

    def shapes(self) -> list[tuple[str, np.ndarray, bool]]:
        """Fence geometry in pixels for annotators: (name, points, closed polygon?)."""
        return [
            (rule.spec.name or rule.spec.id, rule.geometry_px(), rule.spec.kind != "tripwire")
            for rule in self.engine.rules
        ]
