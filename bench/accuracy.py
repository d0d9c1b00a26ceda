"""Detector and tracker accuracy on PETS09-S2L1 (vtest.avi) and false alarms on tree.avi.

    .venv/bin/python bench/accuracy.py                       # yolox-onnx, hog, all frames
    .venv/bin/python bench/accuracy.py --backend yolox-onnx --frames 200

Per backend: detection precision/recall at IoU 0.5 against the MOT15 ground truth (of what the
detector outputs, i.e. at its min_score), MOTA and IDF1 after the ByteTrack tracker, mean
detector ms per detected frame, and person detections and confirmed person tracks per minute
on tree.avi (swaying trees, nobody there). By default frames go through the motion gate and
region crops as in configs/cameras.yaml; --no-crop runs the detector on every whole frame.
Boxes on ignore-flagged (conf 0) ground truth count neither way, in P/R and in MOTA. The ground truth lives in ../shared (test data only,
never shipped); set LOOKOUT_SHARED_DIR to point elsewhere.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress
from scipy.optimize import linear_sum_assignment

from detectors.config import DetectorConfig, MotionConfig, TrackerConfig
from detectors.detections import Detections
from detectors.motion import MotionGate
from detectors.registry import create_detector
from detectors.tracking import Tracker

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
IOU = 0.5
console = Console(stderr=True)


def shared_dir() -> Path:
    env = os.environ.get("LOOKOUT_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


@dataclass
class Gt:
    boxes: dict[int, np.ndarray]  # frame → (N, 4) xyxy
    ids: dict[int, np.ndarray]
    ignore: dict[int, np.ndarray]  # MOT conf=0 boxes: matching them is neither TP nor FP


def load_gt(path: Path) -> Gt:
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    gt = Gt({}, {}, {})
    for f in np.unique(rows[:, 0]).astype(int):
        r = rows[rows[:, 0] == f]
        xyxy = np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], axis=1)
        keep = r[:, 6] > 0
        gt.boxes[f], gt.ids[f], gt.ignore[f] = xyxy[keep], r[keep, 1].astype(int), xyxy[~keep]
    return gt


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def match(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray) -> tuple[int, int]:
    """(true positives, false positives) under optimal one-to-one matching at IoU >= 0.5."""
    m = iou(pred, gt)
    tp = 0
    matched = np.zeros(len(pred), bool)
    if m.size:
        rows, cols = linear_sum_assignment(-m)
        ok = m[rows, cols] >= IOU
        tp = int(ok.sum())
        matched[rows[ok]] = True
    rest = ~matched
    if len(ignore) and rest.any():
        rest[rest] = iou(pred[rest], ignore).max(axis=1) < IOU
    return tp, int(rest.sum())


def frames(video: Path, limit: int | None):
    cap = cv2.VideoCapture(str(video))
    n = 0
    while limit is None or n < limit:
        ok, img = cap.read()
        if not ok:
            break
        n += 1
        yield n, img
    cap.release()


def frame_count(video: Path, limit: int | None) -> int:
    cap = cv2.VideoCapture(str(video))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    cap.release()
    return min(n, limit) if limit else n, fps


def keep_unignored(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray) -> np.ndarray:
    """Mask of predictions to score: those on an ignore-flagged (conf 0) box and on no regular
    one are left out, as in the detection precision above and MOTChallenge's preprocessing."""
    keep = np.ones(len(pred), bool)
    if not len(ignore) or not len(pred):
        return keep
    m = iou(pred, gt)
    matched = np.zeros(len(pred), bool)
    if m.size:
        rows, cols = linear_sum_assignment(-m)
        ok = m[rows, cols] >= IOU
        matched[rows[ok]] = True
    keep[~matched] = iou(pred[~matched], ignore).max(axis=1) < IOU
    return keep


class Analyser:
    """Gate → detector (crops or whole frame) → tracker, as `ingest.pipeline` runs them."""

    def __init__(self, det, tcfg: TrackerConfig, mcfg: MotionConfig | None, fps: float, colours: bool = True) -> None:
        self.det, self.fps, self.colours = det, fps, colours
        self.tracker = Tracker(tcfg, fps=fps)
        self.gate = MotionGate(mcfg) if mcfg is not None and mcfg.enabled else None
        self.tracks = Detections.empty()
        self.elapsed = 0.0
        self.detected = 0

    def step(self, img: np.ndarray, t: float) -> Detections | None:
        """This frame's detections (None when the gate skipped it); updates self.tracks."""
        if self.gate is not None and not self.gate.check(img, t, len(self.tracks) > 0):
            return None
        t0 = time.perf_counter()
        d = self.gate.detect(self.det, img, self.tracks) if self.gate is not None else self.det.detect(img)
        self.elapsed += time.perf_counter() - t0
        self.detected += 1
        self.tracks = self.tracker.update(d, t, image=img if self.colours else None)
        return d


def run_backend(cfg: DetectorConfig, tcfg: TrackerConfig, mcfg: MotionConfig | None, gt: Gt, video: Path,
                tree: Path, limit: int | None, progress, colours: bool = True) -> dict:
    import motmetrics as mm

    det = create_detector(cfg)
    n, fps = frame_count(video, limit)
    run = Analyser(det, tcfg, mcfg, fps, colours)
    acc = mm.MOTAccumulator(auto_id=True)
    # The bench's first convention (until 2026-11-23): a track on a conf-0 box is a false positive.
    acc_strict = mm.MOTAccumulator(auto_id=True)
    tp = fp = n_gt = 0
    no_boxes = np.zeros((0, 4))
    task = progress.add_task(f"{det.name} vtest", total=n)
    for f, img in frames(video, limit):
        d = run.step(img, (f - 1) / fps)
        g, ign = gt.boxes.get(f, no_boxes), gt.ignore.get(f, no_boxes)
        # A skipped frame (no motion) reports no detections but keeps the last tracks.
        a, b = match(d.xyxy if d is not None else no_boxes, g, ign)
        tp, fp, n_gt = tp + a, fp + b, n_gt + len(g)
        ids = gt.ids.get(f, np.zeros(0, int)).tolist()
        for accumulator, tracks in ((acc, run.tracks[keep_unignored(run.tracks.xyxy, g, ign)]), (acc_strict, run.tracks)):
            dist = 1 - iou(g, tracks.xyxy)
            dist[dist > 1 - IOU] = np.nan
            accumulator.update(ids, tracks.tracker_id.tolist(), dist)
        progress.advance(task)
    metrics = mm.metrics.create()
    summary = metrics.compute(acc, metrics=["mota", "idf1", "num_switches", "num_false_positives", "num_misses"], name=cfg.kind)
    strict = metrics.compute(acc_strict, metrics=["mota", "idf1"], name=cfg.kind)

    # tree.avi's header claims 444 frames but only 68 decode: count what is read. Alerts come
    # from tracks, so confirmed person tracks per frame are what would reach the rules.
    tree_n, tree_fps = frame_count(tree, None)
    tree_run = Analyser(det, tcfg, mcfg, tree_fps, colours)
    tree_dets = tree_tracks = tree_read = 0
    task = progress.add_task(f"{det.name} tree", total=tree_n)
    for tree_read, img in frames(tree, None):
        d = tree_run.step(img, (tree_read - 1) / tree_fps)
        tree_dets += 0 if d is None else len(d)
        tree_tracks += len(tree_run.tracks)
        progress.advance(task)
    progress.update(task, completed=tree_n)
    minutes = max(tree_read, 1) / tree_fps / 60
    return {
        "backend": det.name,
        "frames": n,
        "recall": tp / max(n_gt, 1),
        "precision": tp / max(tp + fp, 1),
        "mota": float(summary["mota"].iloc[0]),
        "idf1": float(summary["idf1"].iloc[0]),
        "mota_strict": float(strict["mota"].iloc[0]),
        "idf1_strict": float(strict["idf1"].iloc[0]),
        "id_switches": int(summary["num_switches"].iloc[0]),
        "track_fp": int(summary["num_false_positives"].iloc[0]),
        "track_fn": int(summary["num_misses"].iloc[0]),
        "ms_per_frame": 1000 * run.elapsed / max(run.detected, 1),
        "tree_dets_per_min": tree_dets / minutes,
        "tree_tracks_per_min": tree_tracks / minutes,
    }


def main(
    backend: list[str] = typer.Option(["yolox-onnx", "hog"], help="Backends to compare"),
    frames_limit: int = typer.Option(0, "--frames", help="Only the first N frames of vtest.avi (0: all)"),
    min_score: float = typer.Option(None, help="Detector min_score (default: DetectorConfig's)"),
    nms_iou: float = typer.Option(None, help="Detector NMS IoU"),
    input_size: int = typer.Option(None, help="Detector input size (YOLOX: any multiple of 32 once relaxed)"),
    crop: bool = typer.Option(True, help="Motion gate + crops around motion and tracks, as configs/cameras.yaml"),
    high_score: float = typer.Option(None, help="Tracker high_score"),
    min_hits: int = typer.Option(None, help="Tracker min_hits"),
    activation: float = typer.Option(None, help="Tracker min_score: the score a new track needs"),
    lost_track_s: float = typer.Option(None, help="Tracker lost_track_s"),
    match_iou: float = typer.Option(None, help="Tracker match_iou"),
    swap_check: bool = typer.Option(None, help="Tracker swap_check (default: TrackerConfig's)"),
    colours: bool = typer.Option(True, help="Give the tracker the frame, for the colour check of id takeovers"),
    warmup_s: float = typer.Option(None, help="Motion gate warmup_s (default: MotionConfig's)"),
    model: Path = typer.Option(None, help="YOLOX ONNX file (default: shared/models/yolox_nano.onnx)"),
    threads: int = typer.Option(2, help="Inference threads"),
) -> None:
    gt_path = shared_dir() / "data" / "pets09-s2l1" / "gt.txt"
    video, tree = OPENCV_DATA / "vtest.avi", OPENCV_DATA / "tree.avi"
    for p in (gt_path, video, tree):
        if not p.is_file():
            raise typer.BadParameter(f"{p} not found")
    model = model or shared_dir() / "models" / "yolox_nano.onnx"
    cv2.setNumThreads(threads)
    gt = load_gt(gt_path)
    given = {"high_score": high_score, "min_score": activation, "lost_track_s": lost_track_s, "match_iou": match_iou,
             "min_hits": min_hits, "swap_check": swap_check}
    tcfg = TrackerConfig(**{k: v for k, v in given.items() if v is not None})
    extra = {"min_score": min_score, "nms_iou": nms_iou, "input_size": input_size}
    det_extra = {k: v for k, v in extra.items() if v is not None}
    mcfg = (MotionConfig() if warmup_s is None else MotionConfig(warmup_s=warmup_s)) if crop else None
    console.print(f"detector {det_extra or 'defaults'}; tracker {tcfg.model_dump()}; "
                  f"motion {mcfg.model_dump() if mcfg else 'off (every frame, whole frame)'}")
    rows = []
    with Progress(console=console) as progress:
        for kind in backend:
            cfg = DetectorConfig(kind=kind, model_path=model if kind == "yolox-onnx" else None,
                                 threads=threads, **det_extra)
            rows.append(run_backend(cfg, tcfg, mcfg, gt, video, tree, frames_limit or None, progress, colours))
    print("| backend | frames | recall | precision | MOTA | IDF1 | MOTA / IDF1, conf-0 hits as FP | ID sw. | track FP "
          "| track FN | ms/detected frame | tree.avi person dets/min | tree.avi person tracks/min |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['frames']} | {r['recall']:.3f} | {r['precision']:.3f} | {r['mota']:.3f} "
              f"| {r['idf1']:.3f} | {r['mota_strict']:.3f} / {r['idf1_strict']:.3f} | {r['id_switches']} | {r['track_fp']} | {r['track_fn']} | {r['ms_per_frame']:.1f} "
              f"| {r['tree_dets_per_min']:.1f} | {r['tree_tracks_per_min']:.1f} |")


if __name__ == "__main__":
    typer.run(main)
