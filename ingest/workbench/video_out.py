"""`--video`: an annotated MP4 of a replay: fences, every track with its id, firing moments.

Drawn with the same annotator as alert snapshots (alerts.snapshot.annotate), so the video looks
like what operators see. A track that just fired a rule is drawn in red and the frame gets a red
border and the rule in its title for `HIGHLIGHT_S` seconds, long enough to notice when playing
at normal speed. Encoded to H.264 through ffmpeg when it is installed (plays in browsers), else
OpenCV's mp4v.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np

from alerts.model import Alert
from alerts.snapshot import annotate
from rules.common import event_object

from ingest.frame import Frame
from ingest.pipeline import CameraPipeline
from ingest.workbench.contact_sheet import media_clock

HIGHLIGHT_S = 1.0
_RED = (0, 0, 255)


class AnnotatedVideo:
    """A replay observer: call it with each analysed frame; `close()` finishes the file."""

    def __init__(self, path: Path, fps: float):
        self.path = Path(path)
        self.fps = fps
        self.frames = 0
        self._proc: subprocess.Popen | None = None
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self._recent: list[tuple[float, str, int]] = []  # (t fired, rule id, track id)

    def __call__(self, pipeline: CameraPipeline, frame: Frame, alerts: list[Alert]) -> None:
        t = frame.media_time if frame.media_time is not None else frame.t
        for a in alerts:
            track = a.objects[0].track_id if a.objects else -1
            self._recent.append((t, a.rule.id, track))
        self._recent = [r for r in self._recent if t - r[0] <= HIGHLIGHT_S]
        self._write(self.render(pipeline, frame.image, t))

    def render(self, pipeline: CameraPipeline, image: np.ndarray, t: float) -> np.ndarray:
        tracks = pipeline.last_tracks
        points = tracks.anchors()
        firing = {r[2] for r in self._recent}
        objs = [event_object(tracks, i, points[i]) for i in range(len(tracks))]
        title = f"{pipeline.camera.id} | {media_clock(t)} | {len(tracks)} tracks"
        if self._recent:
            title += " | FIRED " + ", ".join(sorted({f"{rule} #{track}" for _, rule, track in self._recent}))
        img = annotate(image, objects=[o for o in objs if o.track_id in firing],
                       context=[o for o in objs if o.track_id not in firing],
                       shapes=pipeline.shapes(), title=title)
        if self._recent:
            cv2.rectangle(img, (0, 0), (img.shape[1] - 1, img.shape[0] - 1), _RED, 6)
        return img

    def _open(self, width: int, height: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg:
            # yuv420p needs even dimensions; the title bar makes the height arbitrary.
            cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
                   "-s", f"{width}x{height}", "-r", f"{self.fps:g}", "-i", "-",
                   "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast",
                   "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(self.path)]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        else:
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height))
            if not self._writer.isOpened():
                raise RuntimeError(f"cannot write {self.path}: no ffmpeg and OpenCV has no mp4v encoder")

    def _write(self, img: np.ndarray) -> None:
        h, w = img.shape[:2]
        if self._size is None:
            self._size = (w, h)
            self._open(w, h)
        elif (w, h) != self._size:  # a resolution change mid-file: keep the first size
            img = cv2.resize(img, self._size)
        if self._proc is not None:
            self._proc.stdin.write(np.ascontiguousarray(img).tobytes())
        else:
            self._writer.write(img)
        self.frames += 1

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            rc = self._proc.wait()
            self._proc = None
            if rc != 0:
                raise RuntimeError(f"ffmpeg failed writing {self.path} (exit {rc})")
        if self._writer is not None:
            self._writer.release()
            self._writer = None
