"""Snapshots: annotation draws on a copy; the store writes decodable JPEGs atomically."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np
import pytest

from alerts.snapshot import SnapshotStore, annotate
from rules.events import EventObject

OBJ = EventObject(track_id=4, class_id=0, label="person", confidence=0.91,
                  bbox=(100.0, 80.0, 160.0, 220.0), point=(130.0, 220.0))
SHAPES = [
    ("yard", np.array([[20, 20], [300, 30], [280, 230], [30, 220]], np.float32), True),
    ("gate line", np.array([[50, 260], [350, 250]], np.float32), False),
]


def _frame() -> np.ndarray:
    return np.full((288, 384, 3), 90, np.uint8)


def test_annotate_draws_on_a_copy_with_title_bar():
    frame = _frame()
    before = frame.copy()
    out = annotate(frame, objects=[OBJ], shapes=SHAPES, title="yard-intrusion 12:00:01 UTC")
    assert np.array_equal(frame, before), "the caller's frame (maybe shared memory) must not change"
    assert out.dtype == np.uint8 and out.shape[1] == frame.shape[1] and out.shape[0] > frame.shape[0]
    bar = out.shape[0] - frame.shape[0]
    scene = out[bar:]
    # the event object's box is drawn in red on the grey frame
    red = (scene[:, :, 2] > 200) & (scene[:, :, 0] < 60) & (scene[:, :, 1] < 60)
    assert red[80:221, 98:103].any()
    assert not np.array_equal(scene, frame)


def test_annotate_accepts_grey_frames_and_empty_input():
    grey = np.zeros((100, 120), np.uint8)
    out = annotate(grey, objects=[], shapes=[], title="t")
    assert out.ndim == 3 and out.shape[2] == 3 and out.shape[1] == 120


def test_store_writes_atomically_and_returns_file_uri(tmp_path: Path):
    store = SnapshotStore(tmp_path / "snaps")
    image = annotate(_frame(), objects=[OBJ], shapes=SHAPES, title="t")
    uri = store.save("0b6c9f0e-1c1e-5d7e-9d0a-0f6a3c2b1a00", image)
    path = store.path_for("0b6c9f0e-1c1e-5d7e-9d0a-0f6a3c2b1a00")
    assert urlparse(uri).scheme == "file" and Path(urlparse(uri).path) == path.resolve()
    decoded = cv2.imread(str(path))
    assert decoded is not None and decoded.shape == image.shape
    # no temporary files left behind
    assert os.listdir(tmp_path / "snaps") == [path.name]
    # saving again replaces the file in one step
    store.save("0b6c9f0e-1c1e-5d7e-9d0a-0f6a3c2b1a00", _frame())
    assert cv2.imread(str(path)).shape == _frame().shape


def test_store_refuses_ids_that_leave_the_folder(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            store.path_for(bad)
