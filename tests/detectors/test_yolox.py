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


def test_relaxed_export_batches_cameras_with_the_same_results(yolox, vtest_frames):
    # The export is fixed at [1, 3, 416, 416]; detectors.onnx_shapes relaxes batch and size.
    assert yolox.batching
    frames = [vtest_frames[1], vtest_frames[120], vtest_frames[240]]
    batched = yolox.detect_batch(frames)
    assert len(batched) == 3 and yolox.detect_batch([]) == []
    for img, got in zip(frames, batched):
        alone = yolox.detect(img)
        assert len(got) == len(alone) > 0
        np.testing.assert_allclose(got.xyxy, alone.xyxy, atol=0.05)
        np.testing.assert_allclose(got.confidence, alone.confidence, atol=1e-4)


def test_input_size_is_honoured_once_relaxed(yolox_model, vtest_frames, vtest_gt):
    det = create_detector(DetectorConfig(kind="yolox-onnx", model_path=yolox_model, input_size=512, min_score=0.5))
    assert det.size == 512
    tp = sum(match_count(det.detect(img).xyxy, vtest_gt[n]) for n, img in vtest_frames.items())
    assert tp >= 0.75 * sum(len(vtest_gt[n]) for n in vtest_frames)
    with pytest.raises(ValueError, match="multiple of 32"):
        create_detector(DetectorConfig(kind="yolox-onnx", model_path=yolox_model, input_size=500))


def test_a_model_without_the_yolox_head_keeps_its_shapes(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from detectors.onnx_shapes import relax_yolox

    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["output"])], "not-yolox",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 32, 32])],
    )
    path = tmp_path / "identity.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert relax_yolox(path) is None
