"""Frame-by-frame track scenarios for rule tests.

A scenario is a dict of track id -> path, where a path is a function of time returning the
anchor point (x, y) in pixels, or None while the track is absent. `scene(...)` turns it into a
list of (t, Detections) frames whose boxes have that point as their bottom centre, so rules with
the default anchor test exactly the points the test wrote down.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from detectors.detections import Detections
from detectors.labels import class_id

# Not square, so a swapped (width, height) shows up as a failing test.
FRAME = (1000, 800)

Path = Callable[[float], "tuple[float, float] | None"]


def norm(x: float, y: float) -> tuple[float, float]:
    """Pixel point of FRAME -> normalised config coordinates."""
    return (x / FRAME[0], y / FRAME[1])


def batch(
    points: dict[int, tuple[float, float]],
    *,
    cls: dict[int, str] | None = None,
    conf: dict[int, float] | None = None,
    box: tuple[float, float] = (20.0, 40.0),
) -> Detections:
    """One frame: a box per track, bottom centre at its point."""
    if not points:
        return Detections.empty()
    ids = list(points)
    w, h = box
    xy = np.array([points[i] for i in ids], dtype=np.float64)
    xyxy = np.stack([xy[:, 0] - w / 2, xy[:, 1] - h, xy[:, 0] + w / 2, xy[:, 1]], axis=1)
    cls = cls or {}
    conf = conf or {}
    return Detections(
        xyxy,
        np.array([conf.get(i, 0.9) for i in ids]),
        np.array([class_id(cls.get(i, "person")) for i in ids]),
        np.array(ids),
    )


def walk(p0, p1, t0: float, t1: float) -> Path:
    """Straight walk from p0 at t0 to p1 at t1; absent outside [t0, t1]."""

    def at(t: float):
        if t < t0 - 1e-9 or t > t1 + 1e-9:
            return None
        s = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
        return (p0[0] + s * (p1[0] - p0[0]), p0[1] + s * (p1[1] - p0[1]))

    return at


def still(p, t0: float = 0.0, t1: float = float("inf")) -> Path:
    return lambda t: p if t0 - 1e-9 <= t <= t1 + 1e-9 else None


def scene(
    paths: dict[int, Path],
    t_end: float,
    *,
    fps: float = 10.0,
    t0: float = 0.0,
    cls: dict[int, str] | None = None,
    conf: dict[int, float] | None = None,
) -> list[tuple[float, Detections]]:
    n = int(round((t_end - t0) * fps)) + 1
    frames = []
    for k in range(n):
        t = round(t0 + k / fps, 9)
        pts = {tid: p for tid, path in paths.items() if (p := path(t)) is not None}
        frames.append((t, batch(pts, cls=cls, conf=conf)))
    return frames


def run(rule, frames) -> list:
    """Feed frames to a rule (or an engine, with FRAME as frame size); all events in order."""
    events = []
    for t, dets in frames:
        if hasattr(rule, "replace"):
            events.extend(rule.update(dets, t, FRAME))
        else:
            events.extend(rule.update(dets, t))
    return events


@pytest.fixture
def tracks():
    """Factory for one frame's track batch: tracks({1: (x, y)}, cls={1: "car"}, conf={1: .2})."""
    return batch


@pytest.fixture
def make_scene():
    """Factory for a frame-by-frame scenario: make_scene({1: walk(...)}, t_end, fps=10)."""
    return scene
