"""YOLOX-nano (ONNX Runtime) on real PETS09 frames against the MOT15 ground truth."""

import numpy as np
import pytest

from detectors.base import Detector
from detectors.config import DetectorConfig
from detectors.registry import create_detector
from detectors.yolox_onnx import make_grids
from tests.detectors.helpers import match_count


@pytest.fixture(scope="module")
def yolox(yolox_model):
    return create_detector(DetectorConfig(kind="yolox-onnx", model_path=yolox_model, min_score=0.5))


def test_grid_order_matches_the_head():
    grids, strides = make_grids(416)
    assert len(grids) == 3549
    # Row 52 is the first cell of the second row of the stride-8 level.
    assert grids[52].tolist() == [0, 1] and strides[52, 0] == 8
    assert grids[52 * 52].tolist() == [0, 0] and strides[52 * 52, 0] == 16


def test_finds_the_annotated_people(yolox, vtest_frames, vtest_gt):
    assert isinstance(yolox, Detector)
    assert yolox.name == "yolox-onnx:yolox_nano.onnx"
    tp = n_pred = n_gt = 0
    for n, img in vtest_frames.items():
        dets = yolox.detect(img)
        assert (dets.class_id == 0).all()
        assert (dets.confidence >= 0.5).all()
        assert (dets.xyxy[:, 2] <= img.shape[1]).all() and (dets.xyxy[:, 3] <= img.shape[0]).all()
        tp += match_count(dets.xyxy, vtest_gt[n])
        n_pred += len(dets)
        n_gt += len(vtest_gt[n])
    recall, precision = tp / n_gt, tp / max(n_pred, 1)
    # Measured over the whole clip: recall 0.88-0.91, precision 0.78-0.94 in this score range.
    assert recall >= 0.75, (recall, precision)
    assert precision >= 0.7, (recall, precision)


def test_vehicle_classes_on_request(yolox_model, vtest_frames):
    det = create_detector(DetectorConfig(kind="yolox-onnx", model_path=yolox_model, classes=["car", "truck"]))
    out = det.detect(vtest_frames[1])
    # The parked van at the top right of the plaza.
    assert len(out) >= 1
    assert set(out.class_id.tolist()) <= {2, 7}
    cx = (out.xyxy[:, 0] + out.xyxy[:, 2]) / 2
    assert (cx > 600).all() and (out.xyxy[:, 3] < 150).all()


def test_min_area_drops_small_boxes(yolox_model, vtest_frames):
    det = create_detector(DetectorConfig(kind="yolox-onnx", model_path=yolox_model, min_area=1e6))
    assert len(det.detect(vtest_frames[1])) == 0


def test_blank_image_has_no_people(yolox):
    assert len(yolox.detect(np.full((480, 640, 3), 128, np.uint8))) == 0


def test_gpu_providers_are_used_only_when_available():
    from detectors.yolox_onnx import choose_providers

    assert choose_providers(["CPUExecutionProvider"], "auto") == ["CPUExecutionProvider"]
    both = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(both, "auto") == both
    assert choose_providers(both, "cpu") == ["CPUExecutionProvider"]
