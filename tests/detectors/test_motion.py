"""Motion gate: which frames go to the detector. Time is in seconds, never frame counts."""

import numpy as np
import pytest

from detectors.config import MotionConfig
from detectors.motion import MotionGate
from tests.detectors.helpers import draw_marker


def background(h: int = 480, w: int = 640) -> np.ndarray:
    # A fixed texture: real scenes are not flat, and a flat frame hides subtraction bugs.
    rng = np.random.default_rng(7)
    return rng.integers(40, 200, size=(h, w, 3), dtype=np.uint8)


@pytest.fixture(params=["mog2", "diff"])
def gate(request) -> MotionGate:
    return MotionGate(MotionConfig(method=request.param, warmup_s=0))


def test_static_frames_do_not_pass_after_the_first(gate):
    bg = background()
    assert gate.check(bg.copy(), 0.0, has_tracks=False)  # startup: nothing known yet
    for i in range(1, 15):
        assert not gate.check(bg.copy(), i * 0.1, has_tracks=False)
        assert gate.last_fraction == 0.0 and gate.last_regions == []


@pytest.mark.parametrize("method", ["mog2", "diff"])
def test_warm_up_passes_every_frame_then_only_motion(method):
    # People standing in view at start-up: the tracker needs consecutive detections to confirm
    # them, and MOG2 has no background yet to see them by.
    gate = MotionGate(MotionConfig(method=method, warmup_s=1.0))
    bg = background()
    times = [10.0 + 0.1 * i for i in range(20)]
    passed = [gate.check(bg.copy(), t, has_tracks=False) for t in times]
    assert passed == [t - 10.0 < 1.0 - 1e-9 for t in times]
    assert sum(passed) == 10


def test_warm_up_starts_again_after_a_restart():
    gate = MotionGate(MotionConfig(warmup_s=0.5))
    bg = background()
    assert all(gate.check(bg.copy(), t, False) for t in (100.0, 100.2, 100.4))
    assert not gate.check(bg.copy(), 100.6, False)
    # The file looped (time went backwards): the background and the warm-up start afresh.
    assert [gate.check(bg.copy(), t, False) for t in (0.0, 0.3, 0.6)] == [True, True, False]
    gate.reset()  # e.g. a stream reconnect
    assert [gate.check(bg.copy(), t, False) for t in (5.0, 5.1, 5.6)] == [True, True, False]


def test_moving_rectangle_passes_and_is_located(gate):
    bg = background()
    for i in range(10):
        gate.check(bg.copy(), i * 0.1, has_tracks=False)
    for step in range(5):
        x = 200 + 12 * step
        box = (x, 150, x + 40, 250)
        assert gate.check(draw_marker(bg.copy(), box), 1.0 + step * 0.1, has_tracks=False)
        assert gate.last_fraction >= gate.cfg.min_area_fraction
        # Some motion region (original pixels) overlaps the rectangle.
        assert any(r[0] < box[2] and r[2] > box[0] and r[1] < box[3] and r[3] > box[1] for r in gate.last_regions)
        assert all(r[2] <= 640 + 1 and r[3] <= 480 + 1 for r in gate.last_regions)


def test_tiny_change_below_min_area_fraction_does_not_pass():
    gate = MotionGate(MotionConfig(method="diff", min_area_fraction=0.01, warmup_s=0))
    bg = background()
    gate.check(bg.copy(), 0.0, False)
    assert not gate.check(draw_marker(bg.copy(), (100, 100, 110, 110)), 0.1, False)
    assert 0 < gate.last_fraction < 0.01


def test_recheck_interval_while_tracks_exist():
    gate = MotionGate(MotionConfig(recheck_interval_s=2.0, warmup_s=0))
    bg = background()
    # Irregular timestamps, as from a stream that drops frames.
    times = [0.0, 0.4, 1.3, 1.9, 2.05, 2.7, 3.9, 4.1, 4.2]
    passed = [gate.check(bg.copy(), t, has_tracks=True) for t in times]
    assert passed == [True, False, False, False, True, False, False, True, False]
    # Without tracks a still scene never re-checks.
    assert not gate.check(bg.copy(), 20.0, has_tracks=False)
    assert gate.check(bg.copy(), 20.1, has_tracks=True)


def test_time_going_backwards_restarts_the_gate():
    gate = MotionGate(MotionConfig(warmup_s=0))
    bg = background()
    gate.check(bg.copy(), 100.0, False)
    assert not gate.check(bg.copy(), 100.1, False)
    assert gate.check(bg.copy(), 0.0, False)  # the file looped


def test_disabled_gate_passes_everything():
    gate = MotionGate(MotionConfig(enabled=False))
    bg = background(120, 160)
    assert all(gate.check(bg, t, False) for t in (0.0, 0.1, 0.2))
    assert gate.last_regions == [(0.0, 0.0, 160.0, 120.0)]
