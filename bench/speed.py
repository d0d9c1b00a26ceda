"""Per-stage cost on vtest.avi: decode, motion gate, each detector backend, tracker.

    .venv/bin/python bench/speed.py --frames 200 --threads 2
    .venv/bin/python bench/speed.py --backend yolox-onnx --ultralytics   # + ORT vs ultralytics

Prints a markdown table: mean and median milliseconds per frame and frames/s per core (1000 /
mean ms / threads). Each backend is timed on whole frames and behind the motion gate with
region crops (ms per *input* frame, gate included, skipped frames included), YOLOX also as a
batch of 4 frames (cross-camera batching). --ultralytics builds YOLOv8n from yolov8n.yaml
(random weights: timing needs none, nothing is downloaded), exports it to ONNX with
ultralytics and times ultralytics' predict against ONNX Runtime on the same 640 input.
Timings depend on the machine and on what else runs there; compare numbers from one run only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import typer
from rich.console import Console
from rich.progress import track

from detectors.config import DetectorConfig, MotionConfig, TrackerConfig
from detectors.detections import Detections
from detectors.motion import MotionGate
from detectors.preprocess import letterbox
from detectors.registry import BackendUnavailable, create_detector
from detectors.tracking import Tracker
from detectors.ultralytics_backend import INSTALL_HINT

VIDEO = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
console = Console(stderr=True)


def shared_dir() -> Path:
    env = os.environ.get("LOOKOUT_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def read_frames(n: int) -> tuple[list[np.ndarray], list[float], float]:
    cap = cv2.VideoCapture(str(VIDEO))
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    imgs, ms = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        ok, img = cap.read()
        if not ok:
            break
        ms.append(1000 * (time.perf_counter() - t0))
        imgs.append(img)
    cap.release()
    return imgs, ms, fps


def timed(fn, items, label: str) -> list[float]:
    ms = []
    for item in track(items, description=label, console=console):
        t0 = time.perf_counter()
        fn(item)
        ms.append(1000 * (time.perf_counter() - t0))
    return ms


def gated(det, imgs: list[np.ndarray], fps: float) -> tuple[list[float], float]:
    """ms per input frame through gate + crops + tracker, and the fraction of frames on crops."""
    gate, tracker = MotionGate(MotionConfig(crop_regions=True)), Tracker(TrackerConfig(), fps=fps)
    tracks, cropped = Detections.empty(), 0
    ms = []
    for i, img in enumerate(track(imgs, description=f"{det.name} gated", console=console)):
        t0 = time.perf_counter()
        if gate.check(img, i / fps, len(tracks) > 0):
            d = gate.detect(det, img, tracks)
            cropped += gate.last_crops is not None
            tracks = tracker.update(d, i / fps)
        ms.append(1000 * (time.perf_counter() - t0))
    return ms, cropped / max(len(imgs), 1)


def require_ultralytics():
    """The ultralytics YOLO class, or BackendUnavailable naming the `yolo` extra."""
    # Offline: no settings sync, no font or asset downloads, no pip auto-update.
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="lookout-yolo-"))
    try:
        from ultralytics import YOLO
    except ImportError as e:
        raise BackendUnavailable(INSTALL_HINT) from e
    return YOLO


def ultralytics_vs_ort(imgs: list[np.ndarray], threads: int, size: int = 640) -> list[tuple[str, list[float]]]:
    """The same random-weight YOLOv8n (from yolov8n.yaml) in ultralytics (torch) and ORT."""
    YOLO = require_ultralytics()
    import onnxruntime as ort
    import torch

    torch.set_num_threads(threads)
    model = YOLO("yolov8n.yaml")  # architecture only: random weights, nothing downloaded
    workdir = Path(tempfile.mkdtemp(prefix="lookout-yolov8n-"))
    with contextlib.chdir(workdir):  # a .yaml-built model exports into the working directory
        onnx_path = workdir / model.export(format="onnx", imgsz=size, simplify=False, dynamic=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def blob(img: np.ndarray) -> np.ndarray:
        canvas, _ = letterbox(img, size)  # RGB 0..1, as ultralytics feeds its models
        return np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0

    def best_class(out: np.ndarray) -> None:  # (84, anchors): 4 box rows, 80 class rows
        _ = out[:4, out[4:].max(axis=0) >= 0.25]

    def ort_detect(img: np.ndarray) -> None:
        best_class(sess.run(None, {name: blob(img)})[0][0])

    # ultralytics' own predict() needs torchvision, whose PyPI wheel does not load with the
    # CPU-only torch available here ("operator torchvision::nms does not exist"), so the
    # ultralytics model (a torch nn.Module) runs directly with the same pre/post-processing.
    net = model.model.eval()

    def ul_detect(img: np.ndarray) -> None:
        with torch.inference_mode():
            out = net(torch.from_numpy(blob(img)))
        best_class((out[0] if isinstance(out, (list, tuple)) else out)[0].numpy())

    ul_detect(imgs[0])
    ort_detect(imgs[0])
    return [
        (f"YOLOv8n {size}x{size}, ultralytics {__import__('ultralytics').__version__} model in torch {torch.__version__}",
         timed(ul_detect, imgs, "ultralytics")),
        (f"YOLOv8n {size}x{size}, ONNX Runtime {ort.__version__} (ultralytics ONNX export)", timed(ort_detect, imgs, "ort")),
    ]


def main(
    frames: int = typer.Option(200, help="Frames of vtest.avi to time"),
    threads: int = typer.Option(2, help="Inference and OpenCV threads"),
    backend: list[str] = typer.Option(["fake", "yolox-onnx", "hog"], help="Backends to time"),
    ultralytics: bool = typer.Option(False, help="Also time YOLOv8n in ultralytics vs ONNX Runtime (needs the yolo extra)"),
    input_size: list[int] = typer.Option([416], help="YOLOX input sizes to time (multiples of 32)"),
) -> None:
    cv2.setNumThreads(threads)
    imgs, decode_ms, fps = read_frames(frames)
    rows = [("decode (OpenCV)", decode_ms)]
    for method in ("mog2", "diff"):
        gate = MotionGate(MotionConfig(method=method))
        it = iter(range(len(imgs)))
        rows.append((f"motion gate {method}", timed(lambda img: gate.check(img, next(it) / fps, False), imgs, method)))
    model = shared_dir() / "models" / "yolox_nano.onnx"
    notes = []
    runs = [(kind, size) for kind in backend for size in (input_size if kind == "yolox-onnx" else [416])]
    for kind, size in runs:
        if kind == "yolox-onnx" and not model.is_file():
            console.print(f"skipping yolox-onnx: {model} not found")
            continue
        det = create_detector(DetectorConfig(kind=kind, model_path=model if kind == "yolox-onnx" else None,
                                             threads=threads, input_size=size))
        det.detect(imgs[0])  # first call allocates; keep it out of the numbers
        size = getattr(det, "size", None)
        label = f"{det.name}" + (f" {size}x{size}" if size else "")
        results = []
        rows.append((f"{label}, whole frame", timed(lambda img: results.append(det.detect(img)), imgs, det.name)))
        ms, share = gated(det, imgs, fps)
        rows.append((f"{label}, motion gate + crops (gate included; {share:.0%} of frames on crops)", ms))
        if getattr(det, "batching", False) and size == input_size[0]:
            groups = [imgs[i:i + 4] for i in range(0, len(imgs) - 3, 4)]
            batch_ms = timed(det.detect_batch, groups, "batch of 4")
            rows.append((f"{label}, batch of 4 frames (per frame)", [m / 4 for m in batch_ms]))
        if kind == "yolox-onnx" and size == input_size[0]:
            tracker = Tracker(TrackerConfig(), fps=fps)
            it = iter(range(len(results)))
            rows.append(("tracker (ByteTrack)", timed(lambda d: tracker.update(d, next(it) / fps), results, "track")))
    if ultralytics:
        try:
            rows.extend(ultralytics_vs_ort(imgs, threads))
        except BackendUnavailable as e:
            notes.append(f"ultralytics vs ONNX Runtime not timed: {e}")
    print(f"| stage ({len(imgs)} frames, {threads} threads) | mean ms | median ms | frames/s per core |")
    print("|---|---|---|---|")
    for name, ms in rows:
        print(f"| {name} | {np.mean(ms):.2f} | {np.median(ms):.2f} | {1000 / max(np.mean(ms), 1e-6) / threads:.1f} |")
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    typer.run(main)
