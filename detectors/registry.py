"""Build a `Detector` from its config, importing the chosen backend (and its runtime) lazily.

Importing `detectors` never pulls onnxruntime, ultralytics or torch: each backend module is
imported only when `create_detector` picks it.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from detectors.base import Detector
from detectors.config import DetectorConfig

log = logging.getLogger("lookout.detectors")


class BackendUnavailable(RuntimeError):
    """The backend's runtime package is not installed; the message says what to install."""


def resolve_model_path(cfg: DetectorConfig, base_dir: Path | None) -> Path | None:
    if cfg.model_path is None:
        return None
    path = Path(cfg.model_path).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def _backend(module: str, cls: str):
    return getattr(importlib.import_module(module), cls)


def _require_path(kind: str, path: Path | None) -> Path:
    if path is None:
        raise ValueError(f"detector kind {kind!r} needs model_path")
    return path


def create_detector(cfg: DetectorConfig, base_dir: Path | None = None) -> Detector:
    """The configured backend; 'auto' is YOLOX ONNX when its weights exist, else HOG.

    Under 'auto', existing .pt weights go to the ultralytics backend instead (which raises
    `BackendUnavailable` if ultralytics is not installed: a configured model is never
    silently swapped for a weaker one when the file is there).
    """
    path = resolve_model_path(cfg, base_dir)
    kind = cfg.kind
    if kind == "auto":
        if path is not None and path.is_file():
            kind = "ultralytics" if path.suffix == ".pt" else "yolox-onnx"
        else:
            why = "no model_path configured" if path is None else f"model file {path} not found"
            log.warning("%s; falling back to the HOG people detector (lower recall)", why)
            kind = "hog"
    if kind == "yolox-onnx":
        return _backend("detectors.yolox_onnx", "YoloxOnnxDetector")(cfg, _require_path(kind, path))
    if kind == "hog":
        return _backend("detectors.hog", "HogPeopleDetector")(cfg)
    if kind == "fake":
        return _backend("detectors.marker", "MarkerDetector")(cfg)
    if kind == "ultralytics":
        return _backend("detectors.ultralytics_backend", "UltralyticsDetector")(cfg, _require_path(kind, path))
    raise ValueError(f"unknown detector kind {kind!r}")
