"""Per-stage cost on vtest.avi: decode, motion gate, each detector backend, tracker.

    .venv/bin/python bench/speed.py --frames 200 --threads 2

Prints a markdown table of mean and median milliseconds per frame. Timings depend on the
machine and on what else runs there; compare numbers from the same machine only.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import typer
from rich.console import Console
from rich.progress import track

from detectors.config import DetectorConfig, MotionConfig, TrackerConfig
from detectors.motion import MotionGate
from detectors.registry import create_detector
from detectors.tracking import Tracker

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


def main(
    frames: int = typer.Option(200, help="Frames of vtest.avi to time"),
    threads: int = typer.Option(2, help="Inference and OpenCV threads"),
    backend: list[str] = typer.Option(["fake", "yolox-onnx", "hog"], help="Backends to time"),
) -> None:
    cv2.setNumThreads(threads)
    imgs, decode_ms, fps = read_frames(frames)
    rows = [("decode (OpenCV)", decode_ms)]
    for method in ("mog2", "diff"):
        gate = MotionGate(MotionConfig(method=method))
        it = iter(range(len(imgs)))
        rows.append((f"motion gate {method}", timed(lambda img: gate.check(img, next(it) / fps, False), imgs, method)))
    model = shared_dir() / "models" / "yolox_nano.onnx"
    for kind in backend:
        if kind == "yolox-onnx" and not model.is_file():
            console.print(f"skipping yolox-onnx: {model} not found")
            continue
        det = create_detector(DetectorConfig(kind=kind, model_path=model if kind == "yolox-onnx" else None,
                                             threads=threads))
        det.detect(imgs[0])  # first call allocates; keep it out of the numbers
        results = []
        rows.append((det.name, timed(lambda img: results.append(det.detect(img)), imgs, det.name)))
        if kind == "yolox-onnx":
            tracker = Tracker(TrackerConfig(), fps=fps)
            it = iter(range(len(results)))
            rows.append(("tracker (ByteTrack)", timed(lambda d: tracker.update(d, next(it) / fps), results, "track")))
    print(f"| stage ({len(imgs)} frames, {threads} threads) | mean ms | median ms |")
    print("|---|---|---|")
    for name, ms in rows:
        print(f"| {name} | {np.mean(ms):.2f} | {np.median(ms):.2f} |")


if __name__ == "__main__":
    typer.run(main)
