"""Letterbox and NMS shared by the YOLO backends."""

import numpy as np

from detectors.preprocess import finalize, letterbox, nms_per_class


def test_letterbox_is_top_left_with_grey_fill():
    img = np.full((576, 768, 3), 7, np.uint8)
    canvas, r = letterbox(img, 416)
    assert canvas.shape == (416, 416, 3)
    assert r == 416 / 768
    h = int(576 * r)  # 312
    assert (canvas[:h, :, :] == 7).all()
    assert (canvas[h:, :, :] == 114).all()


def test_nms_is_per_class():
    xyxy = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    classes = np.array([0, 0, 2], np.int32)
    keep = nms_per_class(xyxy, scores, classes, 0.45)
    assert keep.tolist() == [0, 2]


def test_finalize_filters_class_score_area_and_clips():
    xyxy = np.array([[-5, -5, 20, 40], [0, 0, 2, 2], [50, 50, 90, 120], [10, 10, 30, 60]], np.float32)
    scores = np.array([0.9, 0.9, 0.3, 0.8], np.float32)
    classes = np.array([0, 0, 0, 2], np.int32)
    out = finalize(xyxy, scores, classes, keep_classes=np.array([0]), min_score=0.5,
                   min_area=10, nms_iou=0.45, image_shape=(100, 100, 3))
    assert len(out) == 1
    np.testing.assert_allclose(out.xyxy[0], [0, 0, 20, 40])


def test_nms_with_negative_coordinates_and_zero_scores_stays_per_class():
    xyxy = np.array([[-50, -50, -10, -10], [-50, -50, -10, -10], [-49, -49, -10, -10]], np.float32)
    scores = np.array([0.0, 0.5, 0.4], np.float32)
    classes = np.array([1, 0, 0], np.int32)
    keep = nms_per_class(xyxy, scores, classes, 0.45)
    assert sorted(keep.tolist()) == [0, 1]
