"""FileSource and GeneratedSource: timestamps, subsampling, loop, pacing, scene content."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from ingest.config import CameraConfig
from ingest.generated import PERSON_H, PERSON_W, GeneratedSource, scene_boxes
from ingest.sources import FileSource, open_source


def magenta_mask(img: np.ndarray) -> np.ndarray:
    b, g, r = img[..., 0].astype(int), img[..., 1].astype(int), img[..., 2].astype(int)
    return (b > 180) & (r > 180) & (g < 90)


def test_file_source_subsamples_by_timestamp(sample_video):
    cam = CameraConfig(id="plaza", url=str(sample_video), realtime=False, analysis_fps=5)
    src = open_source(cam)
    assert isinstance(src, FileSource)
    frames = list(src)
    assert src.state == "ended"
    fps = src.fps
    total = int(cv2.VideoCapture(str(sample_video)).get(cv2.CAP_PROP_FRAME_COUNT))
    assert len(frames) == pytest.approx(total / fps * 5, abs=2)
    ts = np.array([f.t for f in frames])
    media = np.array([f.media_time for f in frames])
    assert np.all(np.diff(ts) > 0) and np.all(np.diff(media) > 0)
    assert np.diff(ts).min() >= 0.2 - 0.5 / fps
    np.testing.assert_allclose(ts, media)  # realtime=False: t is media time
    assert [f.seq for f in frames] == list(range(1, len(frames) + 1))
    h, w = frames[0].image.shape[:2]
    assert frames[0].image.shape == (h, w, 3) and frames[0].image.dtype == np.uint8
    assert all(f.camera_id == "plaza" and f.t_wall > 1e9 for f in frames)


def test_file_loop_keeps_time_increasing(short_mp4):
    cam = CameraConfig(id="loop", url=short_mp4.name, realtime=False, loop=True, analysis_fps=5)
    src = open_source(cam, base_dir=short_mp4.parent)  # relative path → config folder
    frames = [next(src) for _ in range(40)]  # 3 s file at 5 fps = 15 frames per pass
    src.close()
    ts = [f.t for f in frames]
    assert all(b > a for a, b in zip(ts, ts[1:]))
    media = [f.media_time for f in frames]
    assert sum(1 for a, b in zip(media, media[1:]) if b < a) >= 2  # media time restarts per pass
    assert ts[-1] > 7.5


def test_realtime_file_is_paced_and_stamped_with_epoch(short_mp4):
    cam = CameraConfig(id="rt", url=str(short_mp4), realtime=True, analysis_fps=5)
    src = open_source(cam)
    start = time.time()
    frames = [next(src) for _ in range(6)]
    src.close()
    assert time.time() - start >= 0.9  # 6 frames at 5 fps span 1 s of media time
    assert abs(frames[0].t - start) < 5
    assert frames[-1].t - frames[0].t == pytest.approx(1.0, abs=0.05)


def test_missing_file_is_lost_not_a_crash(tmp_path, caplog):
    src = open_source(CameraConfig(id="nofile", url="missing.mp4"), base_dir=tmp_path)
    assert list(src) == []
    assert src.state == "lost"
    assert "nofile" in caplog.text


def test_generated_scene_draws_the_walkers():
    cam = CameraConfig(id="synth", url="generated://scene?fps=10", realtime=False, analysis_fps=10)
    src = open_source(cam)
    assert isinstance(src, GeneratedSource)
    frames = [next(src) for _ in range(120)]  # one 12 s cycle
    src.close()
    assert [round(f.t, 3) for f in frames[:3]] == [0.0, 0.1, 0.2]
    crossed_middle = in_lower_right = False
    for f in frames:
        assert f.image.shape == (480, 640, 3)
        boxes = scene_boxes(f.t)
        mask = magenta_mask(f.image)
        expected = np.zeros_like(mask)
        for x0, y0, x1, y1 in boxes.astype(int):
            expected[y0:y1, x0:x1] = True
        assert (mask ^ expected).sum() <= 0.05 * max(expected.sum(), 1)  # walkers may overlap
        for x0, y0, x1, y1 in boxes:
            assert mask[int(y0) + 2:int(y1) - 2, int(x0) + 1:int(x1) - 1].all()
            crossed_middle |= x0 < 320 < x1
            in_lower_right |= x1 > 400 and y1 > 360
    assert crossed_middle and in_lower_right
    full = [b for f in frames for b in scene_boxes(f.t) if b[2] - b[0] == PERSON_W]
    assert full and all(b[3] - b[1] == PERSON_H for b in full)


def test_generated_realtime_uses_epoch_and_is_endless():
    cam = CameraConfig(id="synth", url="generated://scene", realtime=True, analysis_fps=5)
    src = open_source(cam)
    frames = [next(src) for _ in range(3)]
    src.close()
    assert abs(frames[0].t - time.time()) < 5
    assert frames[1].t - frames[0].t == pytest.approx(0.2, abs=1e-6)
    with pytest.raises(StopIteration):
        next(src)  # closed


def test_generated_video_file_keeps_magenta(short_mp4):
    cap = cv2.VideoCapture(str(short_mp4))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == pytest.approx(30, abs=1)
    for _ in range(20):
        ok, img = cap.read()
        assert ok
    cap.release()
    expected = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in scene_boxes(19 / 10))
    assert magenta_mask(img).sum() == pytest.approx(expected, rel=0.15)
