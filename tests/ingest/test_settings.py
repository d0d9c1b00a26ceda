"""Worker process settings from the environment."""

from __future__ import annotations

import cv2
import pytest
from pydantic import ValidationError

from ingest.settings import WorkerSettings, apply_opencv_threads


def test_opencv_threads_default_one_and_from_environment(monkeypatch):
    assert WorkerSettings().opencv_threads == 1
    monkeypatch.setenv("LOOKOUT_OPENCV_THREADS", "0")
    assert WorkerSettings().opencv_threads == 0
    monkeypatch.setenv("LOOKOUT_OPENCV_THREADS", "-3")
    with pytest.raises(ValidationError, match="opencv_threads"):
        WorkerSettings()


def test_apply_opencv_threads_sizes_the_pool():
    before = cv2.getNumThreads()
    try:
        apply_opencv_threads(1)
        assert cv2.getNumThreads() == 1
        apply_opencv_threads(0)  # back to OpenCV's default: one per core
        assert cv2.getNumThreads() >= 1
    finally:
        cv2.setNumThreads(before)
