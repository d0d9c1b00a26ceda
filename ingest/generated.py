"""A synthetic scene for when no recorded video exists (`generated://scene`).

A textured grey 640x480 background with magenta (BGR 255,0,255) 30x80 px "people" walking
left→right and right→left at different heights on a repeating schedule. Every walker crosses
the vertical line x = 0.5, and the two lower walkers pass through the lower-right quarter, so a
tripwire at x = 0.5 and a zone in the lower right both fire every cycle. Positions are a pure
function of time (`scene_boxes`), which gives tests and the detector team exact ground truth.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import cv2
import numpy as np

from ingest.config import CameraConfig
from ingest.frame import Frame
from ingest.sources import FrameSource, Subsampler

MAGENTA = (255, 0, 255)
PERSON_W, PERSON_H = 30, 80
CYCLE_S = 12.0


@dataclass(frozen=True)
class Walker:
    start_s: float  # offset within the cycle when the walker enters
    y_frac: float  # top edge as a fraction of the frame height
    speed_frac: float  # frame widths per second
    left_to_right: bool


# Two walkers in the upper half, two in the lower half (those enter the lower-right zone).
WALKERS = (
    Walker(0.0, 0.20, 0.16, True),
    Walker(2.5, 0.40, 0.20, False),
    Walker(5.0, 0.62, 0.14, True),
    Walker(7.5, 0.75, 0.22, False),
)


def scene_boxes(t: float, width: int = 640, height: int = 480) -> np.ndarray:
    """(N, 4) float xyxy boxes of the walkers visible at media time `t` (whole box in frame or
    partly outside; clipped to the frame, empty ones left out)."""
    boxes = []
    for w in WALKERS:
        span = width + PERSON_W
        duration = span / (w.speed_frac * width)
        phase = (t - w.start_s) % CYCLE_S
        if phase >= duration:
            continue
        dx = phase * w.speed_frac * width
        x0 = -PERSON_W + dx if w.left_to_right else width - dx
        y0 = w.y_frac * height
        x1, y1 = x0 + PERSON_W, y0 + PERSON_H
        cx0, cx1 = max(x0, 0.0), min(x1, float(width))
        if cx1 - cx0 >= 1:
            boxes.append((cx0, y0, cx1, min(y1, float(height))))
    return np.array(boxes, dtype=np.float32).reshape(-1, 4)


class SceneRenderer:
    """Draws the scene; the background texture is made once, per-frame noise is cheap."""

    def __init__(self, width: int = 640, height: int = 480, seed: int = 0):
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        grey = 118 + rng.integers(-12, 13, size=(height, width), dtype=np.int16)
        grey = cv2.GaussianBlur(grey.astype(np.uint8), (5, 5), 0)
        bg = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
        # Pavement joints and a kerb: edges for motion gates and encoders, never magenta.
        for x in range(0, width, 64):
            cv2.line(bg, (x, height // 2), (x - 40, height), (96, 100, 100), 1)
        cv2.line(bg, (0, height // 2), (width, height // 2), (150, 150, 145), 2)
        self.background = bg
        self._noise = [rng.integers(-3, 4, size=(height, width, 1), dtype=np.int16) for _ in range(4)]

    def render(self, t: float, index: int = 0) -> np.ndarray:
        noise = self._noise[index % len(self._noise)]
        img = np.clip(self.background.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        for x0, y0, x1, y1 in scene_boxes(t, self.width, self.height):
            cv2.rectangle(img, (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1), MAGENTA, thickness=-1)
        return img


class GeneratedSource(FrameSource):
    """Endless synthetic scene at `fps`, subsampled to the camera's analysis_fps.

    realtime=True paces frames to the wall clock and stamps them with epoch seconds; False
    renders as fast as possible with media-time stamps.
    """

    def __init__(self, cam: CameraConfig, fps: float = 10.0, width: int = 640, height: int = 480,
                 seed: int = 0):
        super().__init__(cam)
        self.fps = fps
        self.renderer = SceneRenderer(width, height, seed)
        self._sub = Subsampler(cam.analysis_fps, fps)
        self._index = 0
        self._start_wall: float | None = None

    @classmethod
    def from_camera(cls, cam: CameraConfig) -> GeneratedSource:
        opts = dict(parse_qsl(urlsplit(cam.url).query))
        return cls(cam, fps=float(opts.get("fps", 10)), width=int(opts.get("width", 640)),
                   height=int(opts.get("height", 480)), seed=int(opts.get("seed", 0)))

    def __next__(self) -> Frame:
        while not self.closed:
            media = self._index / self.fps
            self._index += 1
            if not self._sub.keep(media):
                continue
            self._set_state("live")
            image = self.renderer.render(media, self._index)
            now = time.time()
            if not self.cam.realtime:
                return self._frame(media, now, media, image, source="generated")
            if self._start_wall is None:
                self._start_wall = now - media
            due = self._start_wall + media
            if due > now and self._closed.wait(due - now):
                break
            return self._frame(due, time.time(), media, image, source="generated")
        raise StopIteration


def write_generated_video(path: Path | str, seconds: float, fps: float = 10.0,
                          width: int = 640, height: int = 480) -> Path:
    """Write the scene as an MP4: H.264 through ffmpeg when installed (key frame every 10
    frames, so RTSP clients can start quickly), else OpenCV's mp4v."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    renderer = SceneRenderer(width, height)
    n = int(round(seconds * fps))
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
               "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264",
               "-preset", "ultrafast", "-tune", "zerolatency", "-g", "10", "-pix_fmt", "yuv420p",
               "-movflags", "+faststart", str(path)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        try:
            for i in range(n):
                proc.stdin.write(renderer.render(i / fps, i).tobytes())
        finally:
            proc.stdin.close()
            rc = proc.wait()
        if rc != 0:
            raise RuntimeError(f"ffmpeg failed writing {path} (exit {rc})")
        return path
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}: no ffmpeg and OpenCV has no mp4v encoder")
    try:
        for i in range(n):
            writer.write(renderer.render(i / fps, i))
    finally:
        writer.release()
    return path
