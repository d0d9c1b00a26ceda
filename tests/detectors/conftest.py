"""Fixtures for detector tests: shared model and ground truth (workplace only), sample videos."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
VTEST = OPENCV_DATA / "vtest.avi"
# vtest.avi frames (1-based, as in gt.txt) the accuracy tests look at: spread over the clip.
SAMPLE_FRAMES = (1, 60, 120, 180, 240)


def shared_dir() -> Path:
    env = os.environ.get("LOOKOUT_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(scope="session")
def yolox_model() -> Path:
    path = shared_dir() / "models" / "yolox_nano.onnx"
    if not path.is_file():
        pytest.skip(f"YOLOX weights not found at {path} (set LOOKOUT_SHARED_DIR to the shared folder)")
    return path


@pytest.fixture(scope="session")
def vtest_frames() -> dict[int, np.ndarray]:
    """{frame number: BGR image} for SAMPLE_FRAMES of vtest.avi (Debian package opencv-doc)."""
    if not VTEST.is_file():
        pytest.skip(f"{VTEST} not found (apt-get install opencv-doc)")
    cap = cv2.VideoCapture(str(VTEST))
    frames: dict[int, np.ndarray] = {}
    # Sequential reads, not seeking: frame N must be exactly the N-th read() as in gt.txt.
    for n in range(1, max(SAMPLE_FRAMES) + 1):
        ok, img = cap.read()
        if not ok:
            break
        if n in SAMPLE_FRAMES:
            frames[n] = img
    cap.release()
    if len(frames) != len(SAMPLE_FRAMES):
        pytest.skip(f"could not decode {VTEST}")
    return frames


@pytest.fixture(scope="session")
def vtest_gt() -> dict[int, np.ndarray]:
    """{frame: (N, 4) xyxy} MOT15 ground truth, ignore-flagged (conf 0) boxes left out."""
    path = shared_dir() / "data" / "pets09-s2l1" / "gt.txt"
    if not path.is_file():
        pytest.skip(f"PETS09-S2L1 ground truth not found at {path}")
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    rows = rows[rows[:, 6] > 0]
    out: dict[int, np.ndarray] = {}
    for f in np.unique(rows[:, 0]).astype(int):
        r = rows[rows[:, 0] == f]
        out[f] = np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], axis=1)
    return out
