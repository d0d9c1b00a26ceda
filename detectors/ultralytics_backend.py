"""Ultralytics YOLO (v8/11, .pt weights or a .yaml architecture), an optional extra.

ultralytics pulls torch (gigabytes), so it is only imported when this backend is chosen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detectors.config import DetectorConfig
from detectors.detections import Detections
from detectors.labels import COCO_CLASSES
from detectors.preprocess import class_ids, finalize
from detectors.registry import BackendUnavailable

INSTALL_HINT = "ultralytics is not installed: pip install 'lookout-patrol-analytics[yolo]'"


def coco_id_map(names: dict[int, str]) -> dict[int, int]:
    """Model class index → COCO id, by name; classes that COCO lacks are dropped."""
    coco = {n: i for i, n in enumerate(COCO_CLASSES)}
    return {int(k): coco[v] for k, v in names.items() if v in coco}


class UltralyticsDetector:
    def __init__(self, cfg: DetectorConfig, model_path: Path) -> None:
        try:
            from ultralytics import YOLO
        except ImportError as e:
            raise BackendUnavailable(INSTALL_HINT) from e
        # A bare .pt name that is not on disk makes ultralytics download it; Lookout never
        # downloads weights, so refuse first. A .yaml only describes the architecture.
        if model_path.suffix != ".yaml" and not model_path.is_file():
            raise FileNotFoundError(f"ultralytics weights {model_path} not found (nothing is downloaded)")
        self.cfg = cfg
        self.name = f"ultralytics:{model_path.name}"
        self.model = YOLO(str(model_path))
        self.to_coco = coco_id_map(dict(self.model.names))
        self.keep_classes = class_ids(cfg.classes)
        wanted = set(self.keep_classes.tolist())
        self.model_classes = [k for k, v in self.to_coco.items() if v in wanted]
        self.device = "cpu" if cfg.device == "cpu" else None

    def detect(self, image: np.ndarray) -> Detections:
        if not self.model_classes:
            return Detections.empty()
        result = self.model.predict(
            image,
            conf=self.cfg.min_score,
            iou=self.cfg.nms_iou,
            classes=self.model_classes,
            imgsz=self.cfg.input_size,
            device=self.device,
            verbose=False,
        )[0]
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return Detections.empty()
        xyxy = boxes.xyxy.cpu().numpy()
        conf = boxes.conf.cpu().numpy()
        cls = np.array([self.to_coco.get(int(c), -1) for c in boxes.cls.cpu().numpy()], dtype=np.int32)
        # ultralytics already ran NMS; finalize() repeats it (cheap) and applies min_area.
        return finalize(
            xyxy, conf, cls,
            keep_classes=self.keep_classes,
            min_score=self.cfg.min_score,
            min_area=self.cfg.min_area,
            nms_iou=self.cfg.nms_iou,
            image_shape=image.shape,
        )
