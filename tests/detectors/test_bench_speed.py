"""bench/speed.py's code paths that do not need the shared model: the gated timing loop and
the ultralytics comparison's error when the `yolo` extra is missing."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from detectors.marker import MarkerDetector
from detectors.registry import BackendUnavailable
from tests.detectors.helpers import draw_marker

BENCH = Path(__file__).resolve().parents[2] / "bench" / "speed.py"


@pytest.fixture(scope="module")
def speed():
    spec = importlib.util.spec_from_file_location("bench_speed", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gated_loop_times_every_input_frame_and_uses_crops(speed):
    bg = np.random.default_rng(1).integers(40, 200, size=(480, 640, 3), dtype=np.uint8)
    frames = [draw_marker(bg.copy(), (100 + 8 * i, 200, 130 + 8 * i, 280)) for i in range(20)]
    ms, share = speed.gated(MarkerDetector(), frames, fps=10.0)
    assert len(ms) == len(frames) and all(m >= 0 for m in ms)
    assert 0.5 <= share < 1.0  # the first frame is whole, the moving marker then gets crops


def test_ultralytics_comparison_names_the_yolo_extra_when_missing(speed):
    try:
        import ultralytics  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ultralytics is installed here; this test covers its absence")
    with pytest.raises(BackendUnavailable, match=r"lookout-patrol-analytics\[yolo\]"):
        speed.require_ultralytics()
