"""Build the per-camera pipelines of a worker from its config (detectors shared when equal)."""

from __future__ import annotations

import logging
from pathlib import Path

from alerts.snapshot import SnapshotStore
from detectors.base import Detector
from detectors.config import DetectorConfig
from detectors.registry import create_detector

from ingest.config import CameraConfig
from ingest.pipeline import CameraPipeline
from ingest.siteconfig import WorkerConfig

log = logging.getLogger("lookout.worker")


class DetectorCache:
    """One detector instance per distinct config: loading a model once per worker, not per camera."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self._by_key: dict[str, Detector] = {}

    def get(self, cfg: DetectorConfig) -> Detector:
        key = cfg.model_dump_json()
        if key not in self._by_key:
            self._by_key[key] = create_detector(cfg, base_dir=self.base_dir)
            log.info("detector %s loaded", self._by_key[key].name)
        return self._by_key[key]


def build_pipeline(
    cfg: WorkerConfig,
    camera: CameraConfig,
    detectors: DetectorCache,
    snapshots: SnapshotStore | None,
    clock_origin: float = 0.0,
) -> CameraPipeline:
    cams = cfg.cameras
    return CameraPipeline(
        camera,
        site_id=cfg.site.site.id,
        detector=detectors.get(camera.detector or cams.detector),
        motion=camera.motion or cams.motion,
        tracker=cams.tracker,
        rules=cfg.rules_for(camera.id),
        snapshots=snapshots,
        clock_origin=clock_origin,
        timezone=cfg.site.site.timezone,
    )
