"""Backend selection, the 'auto' fallback and lazy imports."""

import logging
import subprocess
import sys

import pytest

from detectors.config import DetectorConfig
from detectors.registry import BackendUnavailable, create_detector, resolve_model_path


def test_importing_detectors_loads_no_heavy_runtime():
    code = (
        "import sys, detectors, detectors.registry, detectors.motion, detectors.tracking, "
        "detectors.config, detectors.detections, detectors.base; "
        "print(sorted(m for m in ('onnxruntime', 'torch', 'ultralytics') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_relative_model_path_resolves_against_base_dir(tmp_path):
    cfg = DetectorConfig(model_path="models/x.onnx")
    assert resolve_model_path(cfg, tmp_path) == tmp_path / "models" / "x.onnx"
    assert resolve_model_path(DetectorConfig(), tmp_path) is None


def test_auto_falls_back_to_hog_and_says_so(tmp_path, caplog):
    cfg = DetectorConfig(kind="auto", model_path="missing.onnx")
    with caplog.at_level(logging.WARNING, logger="lookout.detectors"):
        det = create_detector(cfg, base_dir=tmp_path)
    assert det.name == "hog"
    msgs = [r.getMessage() for r in caplog.records if r.name == "lookout.detectors"]
    assert any(str(tmp_path / "missing.onnx") in m and "falling back to the HOG" in m for m in msgs), msgs


def test_auto_uses_yolox_when_the_model_exists(yolox_model):
    det = create_detector(DetectorConfig(kind="auto", model_path=yolox_model.name), base_dir=yolox_model.parent)
    assert det.name == "yolox-onnx:yolox_nano.onnx"


def test_fake_kind_is_the_marker_detector():
    assert create_detector(DetectorConfig(kind="fake")).name == "fake"


def test_explicit_yolox_with_missing_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        create_detector(DetectorConfig(kind="yolox-onnx", model_path=tmp_path / "missing.onnx"))
    with pytest.raises(ValueError, match="model_path"):
        create_detector(DetectorConfig(kind="yolox-onnx"))


def test_ultralytics_missing_names_the_extra(tmp_path):
    try:
        import ultralytics  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ultralytics is installed here; this test covers its absence")
    with pytest.raises(BackendUnavailable, match=r"pip install 'lookout-patrol-analytics\[yolo\]'"):
        create_detector(DetectorConfig(kind="ultralytics", model_path="yolov8n.yaml"), base_dir=tmp_path)


def test_auto_with_existing_pt_weights_goes_to_ultralytics(tmp_path):
    try:
        import ultralytics  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ultralytics is installed here; this test covers its absence")
    (tmp_path / "best.pt").write_bytes(b"not really weights")
    with pytest.raises(BackendUnavailable, match="ultralytics is not installed"):
        create_detector(DetectorConfig(kind="auto", model_path="best.pt"), base_dir=tmp_path)
