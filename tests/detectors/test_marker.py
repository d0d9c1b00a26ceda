"""The deterministic magenta-marker detector used by generated scenes and end-to-end tests."""

import cv2
import numpy as np

from detectors.base import Detector
from detectors.config import DetectorConfig
from detectors.marker import MarkerDetector
from tests.detectors.helpers import draw_marker


def test_finds_each_magenta_rectangle_as_a_person():
    img = np.full((240, 320, 3), 90, np.uint8)
    draw_marker(img, (20, 30, 40, 90))
    draw_marker(img, (200, 100, 230, 180))
    # Distractors: red, blue, purple-ish and a magenta speck below the minimum area.
    cv2.rectangle(img, (100, 10, 30, 60), (0, 0, 255), -1)
    cv2.rectangle(img, (150, 10, 30, 60), (255, 0, 0), -1)
    cv2.rectangle(img, (100, 150, 30, 60), (128, 0, 128), -1)
    draw_marker(img, (300, 5, 304, 9))
    det = MarkerDetector()
    assert isinstance(det, Detector)
    out = det.detect(img)
    assert len(out) == 2
    np.testing.assert_allclose(out.xyxy, [[20, 30, 40, 90], [200, 100, 230, 180]])
    assert out.class_id.tolist() == [0, 0]
    np.testing.assert_allclose(out.confidence, 0.9)


def test_survives_video_compression():
    img = np.full((240, 320, 3), 60, np.uint8)
    draw_marker(img, (100, 60, 130, 140))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    out = MarkerDetector().detect(cv2.imdecode(buf, cv2.IMREAD_COLOR))
    assert len(out) == 1
    assert np.abs(out.xyxy[0] - [100, 60, 130, 140]).max() <= 2


def test_empty_scene_and_class_filter():
    img = np.zeros((120, 160, 3), np.uint8)
    assert len(MarkerDetector().detect(img)) == 0
    draw_marker(img, (10, 10, 40, 60))
    assert len(MarkerDetector(DetectorConfig(kind="fake", classes=["car"])).detect(img)) == 0
