"""YOLOX (COCO-80) exported to ONNX, run with ONNX Runtime.

The model's output is the raw head ([1, anchors, 85]: tx, ty, tw, th, obj, 80 class
probabilities; obj and classes already sigmoided), so the grid decoding happens here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from detectors.config import DetectorConfig
from detectors.detections import Detections
from detectors.onnx_shapes import relax_yolox
from detectors.preprocess import class_ids, finalize, letterbox
from detectors.registry import BackendUnavailable

log = logging.getLogger("lookout.detectors")

STRIDES = (8, 16, 32)
# Preferred first; only those onnxruntime reports as available are used.
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def make_grids(size: int, strides: tuple[int, ...] = STRIDES) -> tuple[np.ndarray, np.ndarray]:
    """(A, 2) cell offsets and (A, 1) strides, in the row order of the head's output."""
    grids, expanded = [], []
    for s in strides:
        n = size // s
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        expanded.append(np.full((n * n, 1), s))
    return np.concatenate(grids).astype(np.float32), np.concatenate(expanded).astype(np.float32)


def decode(raw: np.ndarray, grids: np.ndarray, strides: np.ndarray, ratio: float) -> np.ndarray:
    """Raw head rows → (A, 4) xyxy boxes in original-image pixels."""
    cxcy = (raw[:, :2] + grids) * strides
    wh = np.exp(raw[:, 2:4]) * strides
    xyxy = np.concatenate([cxcy - wh / 2, cxcy + wh / 2], axis=1)
    return xyxy / ratio


def choose_providers(available: list[str], device: str) -> list[str]:
    if device == "cpu":
        return ["CPUExecutionProvider"]
    return [p for p in GPU_PROVIDERS if p in available] + ["CPUExecutionProvider"]


class YoloxOnnxDetector:
    def __init__(self, cfg: DetectorConfig, model_path: Path) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:  # a core dependency, but a slim image may lack it
            raise BackendUnavailable(
                "onnxruntime is not installed: pip install onnxruntime (or onnxruntime-gpu)"
            ) from e
        if not model_path.is_file():
            raise FileNotFoundError(f"YOLOX model file {model_path} not found")
        self.cfg = cfg
        self.name = f"yolox-onnx:{model_path.name}"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = cfg.threads
        opts.inter_op_num_threads = 1
        providers = choose_providers(ort.get_available_providers(), cfg.device)
        # A relaxed copy accepts any batch (cross-camera batching) and input size.
        relaxed = relax_yolox(model_path)
        source = relaxed if relaxed is not None else str(model_path)
        self.session = ort.InferenceSession(source, sess_options=opts, providers=providers)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = inp.shape
        self.batching = not isinstance(shape[0], int)
        # A fixed export size wins over the config.
        self.size = shape[2] if isinstance(shape[2], int) else cfg.input_size
        if self.size % max(STRIDES):
            raise ValueError(f"detector input_size {self.size} must be a multiple of {max(STRIDES)}")
        log.info("loaded %s (input %d, batching %s) with providers %s",
                 self.name, self.size, self.batching, self.session.get_providers())
        self.grids, self.strides = make_grids(self.size)
        self.keep_classes = class_ids(cfg.classes)

    def detect(self, image: np.ndarray) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """Detections for each image (e.g. one frame per camera), in one inference call when
        the model accepts a batch, else one call per image."""
        if not images:
            return []
        boxes = [letterbox(img, self.size) for img in images]
        blob = np.stack([c.transpose(2, 0, 1) for c, _ in boxes]).astype(np.float32)
        if self.batching:
            raws = self.session.run(None, {self.input_name: blob})[0]
        else:
            raws = [self.session.run(None, {self.input_name: b[None]})[0][0] for b in blob]
        return [self._postprocess(raw, ratio, img.shape) for raw, (_, ratio), img in zip(raws, boxes, images)]

    def _postprocess(self, raw: np.ndarray, ratio: float, image_shape: tuple[int, ...]) -> Detections:
        if raw.shape[0] != len(self.grids):
            raise ValueError(
                f"{self.name}: head has {raw.shape[0]} rows, expected {len(self.grids)} for "
                f"input {self.size} and strides {STRIDES}; is this a raw-head YOLOX export?"
            )
        # Only the configured classes compete for a box's label, so a box that is
        # 0.6 person and 0.7 chair still counts as a person when only people are wanted.
        cls_scores = raw[:, 5:][:, self.keep_classes] * raw[:, 4:5]
        best = cls_scores.argmax(axis=1)
        scores = cls_scores[np.arange(len(best)), best]
        # Cheap pre-filter before decoding: most of the 3549 anchors are background.
        cand = scores >= self.cfg.min_score
        xyxy = decode(raw[cand], self.grids[cand], self.strides[cand], ratio)
        return finalize(
            xyxy,
            scores[cand],
            self.keep_classes[best[cand]],
            keep_classes=self.keep_classes,
            min_score=self.cfg.min_score,
            min_area=self.cfg.min_area,
            nms_iou=self.cfg.nms_iou,
            image_shape=image_shape,
        )
