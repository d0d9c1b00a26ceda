"""Render the frames around an alert into an MP4 clip with the tracks drawn.

Encoder: H.264 (libx264, yuv420p, Main profile, `+faststart`) through PyAV, whose wheels bundle
libx264; browsers (Chromium included) play it inline. The OpenCV 4.14 wheel here has no software
H.264 encoder ('avc1' only finds the absent v4l2m2m hardware encoder), so OpenCV is the fallback
when PyAV is missing: 'vp09' (VP9 in MP4, also playable in Chromium), then 'mp4v' (MPEG-4 Part 2,
which browsers do not play; the file still downloads). PyAV also takes each frame's real time
stamp, so a clip of irregularly analysed frames plays at the true pace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from alerts.snapshot import Shape, annotate
from detectors.labels import label as class_label
from rules.events import EventObject

log = logging.getLogger("lookout.evidence")

_TRAIL = (0, 0, 255)


@dataclass
class ClipFrame:
    """One analysed frame of the pre/post buffer: JPEG bytes (scaled by `scale`) and its tracks,
    already in the scaled image's pixels."""

    t: float
    jpeg: bytes
    scale: float
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    class_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    confidences: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def nbytes(self) -> int:
        return len(self.jpeg) + self.boxes.nbytes + self.track_ids.nbytes + 64


@dataclass(frozen=True)
class ClipSpec:
    """What the clip is about: the alert's tracks are highlighted, `t_alert` marks the moment."""

    title: str
    t_alert: float
    track_ids: frozenset[int]
    shapes: Sequence[Shape] = ()  # fence geometry in full-frame pixels


def _objects(cf: ClipFrame) -> list[EventObject]:
    out = []
    for i in range(len(cf.track_ids)):
        x1, y1, x2, y2 = (float(v) for v in cf.boxes[i])
        cid = int(cf.class_ids[i]) if len(cf.class_ids) > i else 0
        out.append(EventObject(int(cf.track_ids[i]), cid, class_label(cid),
                               float(cf.confidences[i]) if len(cf.confidences) > i else 0.0,
                               (x1, y1, x2, y2), ((x1 + x2) / 2, y2)))
    return out


def render_frames(frames: Sequence[ClipFrame], spec: ClipSpec) -> list[tuple[float, np.ndarray]]:
    """Decode and annotate: highlighted tracks with their trail so far, other tracks thin.
    Returns (time, image) pairs; undecodable frames are left out."""
    trails: dict[int, list[tuple[int, int]]] = {}
    images: list[tuple[float, np.ndarray]] = []
    size: tuple[int, int] | None = None
    for cf in frames:
        img = cv2.imdecode(np.frombuffer(cf.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            continue
        if size is None:
            size = (img.shape[1], img.shape[0])
        elif (img.shape[1], img.shape[0]) != size:
            img = cv2.resize(img, size)  # the stream changed resolution mid-clip
        objs = _objects(cf)
        hot = [o for o in objs if o.track_id in spec.track_ids]
        cold = [o for o in objs if o.track_id not in spec.track_ids]
        for o in hot:
            trails.setdefault(o.track_id, []).append((round(o.point[0]), round(o.point[1])))
        shapes = [(name, np.asarray(pts, np.float64) * cf.scale, closed) for name, pts, closed in spec.shapes]
        dt = cf.t - spec.t_alert
        out = annotate(img, objects=hot, shapes=shapes, context=cold, title=f"{spec.title} | t{dt:+.1f}s")
        bar = out.shape[0] - img.shape[0]
        th = max(1, round(2 * max(0.4, img.shape[0] / 720)))
        for pts in trails.values():
            if len(pts) > 1:
                cv2.polylines(out, [np.array(pts, np.int32) + (0, bar)], False, _TRAIL, th, cv2.LINE_AA)
        images.append((cf.t, out))
    return images


def _even(img: np.ndarray) -> np.ndarray:
    # yuv420p needs even width and height.
    h, w = img.shape[:2]
    if h % 2 or w % 2:
        img = cv2.copyMakeBorder(img, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return img


def _write_pyav(images: list[np.ndarray], times: list[float], path: Path) -> None:
    import av

    h, w = images[0].shape[:2]
    span = max(times[-1] - times[0], 1e-3)
    rate = max(1, round((len(images) - 1) / span)) if len(images) > 1 else 1
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"preset": "veryfast", "crf": "26", "profile": "main"}
        last = -1
        for img, t in zip(images, times):
            pts = max(last + 1, round((t - times[0]) * 1000))  # strictly rising, millisecond pts
            last = pts
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _write_opencv(images: list[np.ndarray], times: list[float], path: Path) -> str:
    h, w = images[0].shape[:2]
    span = max(times[-1] - times[0], 1e-3)
    fps = max(1.0, (len(images) - 1) / span) if len(images) > 1 else 1.0
    for fourcc in ("avc1", "vp09", "mp4v"):
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
        if writer.isOpened():
            for img in images:
                writer.write(img)
            writer.release()
            return fourcc
        writer.release()
    raise RuntimeError("no MP4 encoder available (PyAV missing and OpenCV has none)")


def write_clip(frames: Sequence[ClipFrame], spec: ClipSpec, path: Path) -> int:
    """Render and encode `frames` to `path` (MP4). Returns the number of frames written."""
    rendered = render_frames(frames, spec)
    if not rendered:
        raise ValueError("no decodable frames for the clip")
    times = [t for t, _ in rendered]
    images = [_even(img) for _, img in rendered]
    try:
        _write_pyav(images, times, path)
    except ImportError:
        codec = _write_opencv(images, times, path)
        log.warning("PyAV not installed: clip %s written by OpenCV as %s", path.name, codec)
    return len(images)
