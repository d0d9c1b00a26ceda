"""Detector, motion-gate and tracker settings (one typed model per section)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from detectors.labels import COCO_CLASSES

BackendKind = Literal["auto", "yolox-onnx", "hog", "ultralytics", "fake"]


class DetectorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: BackendKind = Field(
        default="auto",
        description="Backend. 'auto' uses yolox-onnx when model_path exists, else the HOG "
        "people detector (no weights needed), and logs which.",
    )
    model_path: Path | None = Field(
        default=None, description="Weights file (.onnx or .pt); relative paths are resolved "
        "against the config file's folder. Nothing is ever downloaded."
    )
    min_score: float = Field(default=0.5, ge=0, le=1, description="Minimum detection score")
    nms_iou: float = Field(default=0.45, gt=0, le=1, description="IoU threshold for NMS")
    classes: list[str] = Field(default_factory=lambda: ["person"], description="COCO class names to keep")
    min_area: float = Field(default=0, ge=0, description="Minimum box area in pixels")
    input_size: int = Field(
        default=416, ge=32, description="Network input size (square, a multiple of 32). YOLOX "
        "exports with a fixed size are relaxed in memory (needs the onnx package) so this applies; "
        "416 is what YOLOX-nano was trained at, and 544/640 measured no better on PETS09."
    )
    threads: int = Field(default=2, ge=1, description="CPU threads for inference")
    device: Literal["auto", "cpu"] = Field(
        default="auto", description="'auto' uses a GPU (CUDA/TensorRT) execution provider when the "
        "runtime reports one, else the CPU; 'cpu' forces the CPU."
    )

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c not in COCO_CLASSES]
        if unknown:
            raise ValueError(f"unknown class names {unknown}; use COCO names such as person, car, truck")
        return v


class MotionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Run the detector only on frames with motion")
    min_area_fraction: float = Field(default=0.0005, ge=0, le=1, description="Changed area that counts as motion")
    recheck_interval_s: float = Field(default=2.0, gt=0, description="Run the detector at least this often while tracks exist, to see stationary objects")
    warmup_s: float = Field(
        default=2.0, ge=0, description="After a (re)start the gate passes every frame for this long: the "
        "background model knows nothing yet, and the tracker needs consecutive frames to confirm people "
        "already in view (on PETS09 a person standing in a zone at the start was confirmed 0.1 s late "
        "and missed). 0 passes only the first frame."
    )
    method: Literal["mog2", "diff"] = Field(
        default="mog2", description="'mog2' learns a background (copes with swaying trees and "
        "slow light changes); 'diff' compares with the previous frame (no warm-up)."
    )
    work_width: int = Field(default=320, ge=32, description="Frames are downscaled to this width before the motion test")
    pixel_threshold: int = Field(default=25, ge=1, le=255, description="Grey-level change that counts as a changed pixel ('diff' only)")
    crop_regions: bool = Field(
        default=False, description="Run the detector on padded crops around motion and tracked "
        "objects instead of the whole frame, and keep only objects found there (a static "
        "object that never moved is not reported). Off by default: on PETS09 it raised per-frame "
        "MOTA but cost fence-alert F1 (0.957 -> 0.889) and CPU on a busy scene (docs/benchmarks.md)"
    )
    crop_padding: float = Field(default=0.5, ge=0, description="Padding added on each side of a motion region, as a fraction of its longer side")
    crop_min_size: int = Field(default=208, ge=32, description="Crops are at least this many pixels wide and high, which caps the upscaling of small crops")
    crop_max_fraction: float = Field(default=0.6, gt=0, le=1, description="Above this fraction of the frame covered by crops, one full-frame pass is used instead (the keep-only-where-motion filter still applies)")


class TrackerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["bytetrack", "ocsort", "botsort"] = Field(
        default="bytetrack", description="Tracker (roboflow trackers): ByteTrack; OC-SORT (observation-centric "
        "momentum, fewer swaps when people cross); BoT-SORT (without camera-motion compensation: cameras are fixed)")
    lost_track_s: float = Field(default=2.0, gt=0, description="Keep a lost track this long (occlusions)")
    min_score: float = Field(default=0.3, ge=0, le=1, description="Track activation threshold")
    high_score: float = Field(default=0.5, ge=0, le=1, description="Detections at or above this score are matched first (ByteTrack's high-confidence stage)")
    match_iou: float = Field(default=0.1, ge=0, le=1, description="Minimum IoU between a predicted track and a detection to match them")
    min_hits: int = Field(default=2, ge=1, description="Consecutive matched frames before a track gets an id")
    swap_check: bool = Field(
        default=True, description="Swap two tracks' ids back when, after their boxes met, each one's "
        "motion fits the other's velocity from before the meeting clearly better (people passing each "
        "other; detectors/swaps.py)")
    swap_margin: float = Field(
        default=0.5, gt=0, description="How much better (box heights per second) the swapped reading "
        "must fit the velocities from before the meeting")
    split_distance: float = Field(
        default=0.5, gt=0, le=1, description="With the frame's colours (detectors/appearance.py): a track "
        "whose motion changes abruptly and whose torso and leg colours change by at least this much "
        "(Hellinger distance, 0..1) now shows somebody else, and its box gets a new id")
