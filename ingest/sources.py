"""Frame sources: video files and RTSP/HTTP streams through FFmpeg (PyAV, or OpenCV's backend).

HTTP covers IP cameras' MJPEG endpoints (`multipart/x-mixed-replace`, FFmpeg's mpjpeg demuxer)
and anything else FFmpeg plays over HTTP; it reconnects and reports state exactly like RTSP.

A source is an iterator of `Frame`, already subsampled to the camera's `analysis_fps`, with a
`state` that the decoder process reports as health. Live sources never end on their own: a
failed read marks them lost and they reconnect with a NEW capture (an OpenCV capture whose
server died never recovers, TESTING.md), backing off 0.5 s → 5 s. `close()` (from any thread)
ends the iteration, also while a reconnect is waiting (a blocked read returns within
read_timeout_s). Sources set "connecting", "live", "lost" and "ended"; "stalled" (live, but no
frame for a while) is judged by the supervisor, which sees the gap from outside.

Bad input never raises: a stream that cannot be opened (refused, garbage instead of RTSP, no
playable media) or stops delivering (read timeout, undecodable frames) goes "lost" with a reason
(`source.reason`, logged with the camera id) and is retried; `open_failures` and `invalid`
(frames grabbed but not decodable into an image) count what happened. FFmpeg skips empty
(0-byte) MJPEG parts itself, so a camera sending only those reads as "no frame within the read
timeout".
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import cv2

from ingest.config import CameraConfig, redact_url
from ingest.frame import Frame
from ingest.pyav_capture import GridSampler, PyAVCapture

log = logging.getLogger(__name__)

SourceState = Literal["connecting", "live", "stalled", "lost", "ended"]
BACKOFF_START_S = 0.5
BACKOFF_CAP_S = 5.0
# FFmpeg decoding threads per stream. Each camera has its own decoder process, so the cores are
# already shared out by process; one thread per stream costs ~10 % less CPU per frame than
# FFmpeg's default (one per core), which only pays off for a single very large stream.
DECODE_THREADS = int(os.environ.get("LOOKOUT_DECODE_THREADS", "1"))


def _capture_params(*extra: int) -> list[int]:
    return [cv2.CAP_PROP_N_THREADS, DECODE_THREADS, *extra] if DECODE_THREADS > 0 else list(extra)


def uses_pyav(cam: CameraConfig) -> bool:
    """PyAV decodes files and RTSP unless the camera says opencv; HTTP (MJPEG: every frame is a
    key frame, nothing to skip) stays with OpenCV unless the camera says pyav."""
    if cam.decoder == "auto":
        return cam.source_kind in ("file", "rtsp")
    return cam.decoder == "pyav"


def _capture_fps(cap) -> float:
    fps = cap.fps if isinstance(cap, PyAVCapture) else cap.get(cv2.CAP_PROP_FPS)
    return fps if 0 < fps < 1000 else 0.0


class Subsampler:
    """Keeps a frame only if its `t` is at least 1/fps after the last kept one.

    A tolerance of half a source frame interval (at most a quarter period) absorbs timestamp
    jitter, so a 25 fps stream analysed at 5 fps keeps every 5th frame instead of every 6th.
    """

    def __init__(self, fps: float, source_fps: float | None = None):
        self.period = 1.0 / fps
        self.tolerance = 0.001
        self.last: float | None = None
        if source_fps:
            self.set_source_fps(source_fps)

    def set_source_fps(self, source_fps: float) -> None:
        if 0 < source_fps < 1000:
            self.tolerance = min(0.5 / source_fps, 0.25 * self.period)

    def keep(self, t: float) -> bool:
        if self.last is not None and t - self.last < self.period - self.tolerance:
            return False
        self.last = t
        return True


class FrameSource(Iterator[Frame]):
    """Base: state bookkeeping, one log line per state change, close()."""

    def __init__(self, cam: CameraConfig):
        self.cam = cam
        self.state: SourceState = "connecting"
        self.reconnects = 0
        self.open_failures = 0  # attempts to open the stream that failed
        self.invalid = 0  # frames grabbed that did not decode into an image
        self.reason = ""  # why the state last changed ("" when there was nothing to say)
        self.seq = 0
        # Called as on_state(source, new_state) on every change; the decoder forwards it as health.
        self.on_state: Callable[[FrameSource, SourceState], None] | None = None
        self._closed = threading.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def _set_state(self, state: SourceState, why: str = "") -> None:
        if state == self.state:
            return
        self.state = state
        self.reason = why
        level = logging.WARNING if state in ("lost", "stalled") else logging.INFO
        log.log(level, "camera %s (%s): %s%s", self.cam.id, redact_url(self.cam.url), state,
                f" ({why})" if why else "")
        if self.on_state is not None:
            self.on_state(self, state)

    def _frame(self, t: float, t_wall: float, media_time: float | None, image, **meta) -> Frame:
        self.seq += 1
        return Frame(self.cam.id, self.seq, t, t_wall, media_time, image, meta)

    def close(self) -> None:
        self._closed.set()

    def __iter__(self) -> FrameSource:
        return self


class FileSource(FrameSource):
    """A video file: optional loop, optional real-time pacing to the file's fps."""

    def __init__(self, cam: CameraConfig, path: Path):
        super().__init__(cam)
        self.path = Path(path)
        self._cap: cv2.VideoCapture | None = None
        self._fps = 0.0
        self._index = 0  # frames grabbed in the current pass
        self._offset = 0.0  # media seconds of earlier loops, so t keeps increasing
        self._last_media = 0.0
        self._start_wall: float | None = None
        self._sub: Subsampler | GridSampler | None = None

    @property
    def fps(self) -> float:
        return self._fps

    def _open(self) -> bool:
        if uses_pyav(self.cam):
            # Asked per packet, on the time the whole file timeline gives it (loops included).
            cap = PyAVCapture(str(self.path), threads=DECODE_THREADS,
                              wanted=lambda media: self._sub.due(self._offset + media))
        else:
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG, _capture_params())
        if not cap.isOpened():
            cap.release()
            return False
        self._cap = cap
        self._fps = _capture_fps(cap) or 25.0  # some containers report 0 or nonsense
        self._index = 0
        if self._sub is None:
            pyav = isinstance(cap, PyAVCapture)
            self._sub = (GridSampler if pyav else Subsampler)(self.cam.analysis_fps, self._fps)
        return True

    def __next__(self) -> Frame:
        while not self.closed:
            if self._cap is None:
                if not self._open():
                    self._set_state("lost", f"cannot open {self.path}")
                    raise StopIteration
                self._set_state("live")
            # grab() without retrieve() skips the colour conversion of frames we drop.
            if not self._cap.grab():
                self._cap.release()
                self._cap = None
                if not self.cam.loop or self._index == 0:
                    self._set_state("ended")
                    raise StopIteration
                self._offset += self._last_media + 1.0 / self._fps
                continue
            # PyAV skips frames nobody analyses, so its frames carry their own time (pts).
            media = self._cap.frame_time if isinstance(self._cap, PyAVCapture) else self._index / self._fps
            self._index += 1
            self._last_media = media
            t_media = self._offset + media
            if not self._sub.keep(t_media):
                continue
            ok, image = self._cap.retrieve()
            if not ok or image is None:
                continue
            now = time.time()
            if self.cam.realtime:
                if self._start_wall is None:
                    self._start_wall = now - t_media
                due = self._start_wall + t_media
                if due > now and self._closed.wait(due - now):
                    break
                return self._frame(due, time.time(), media, image, source="file")
            return self._frame(t_media, now, media, image, source="file")
        self._release()
        raise StopIteration

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class RtspSource(FrameSource):
    """RTSP or HTTP (MJPEG) stream through OpenCV/FFmpeg with timeouts and reconnection."""

    def __init__(self, cam: CameraConfig):
        super().__init__(cam)
        self._cap: cv2.VideoCapture | PyAVCapture | None = None
        self._pyav = uses_pyav(cam)
        # PyAV samples on the stream's own timestamps (so it can skip before decoding), OpenCV on
        # arrival time.
        self._sub = GridSampler(cam.analysis_fps) if self._pyav else Subsampler(cam.analysis_fps)
        self._backoff = BACKOFF_START_S
        self._ever_live = False
        self._first_open = True
        self._open_failure_logged = False
        self.last_frame_at: float | None = None

    def _capture_options(self) -> str:
        return f"rtsp_transport;{self.cam.rtsp_transport}|analyzeduration;0|probesize;32"

    def _open(self) -> cv2.VideoCapture | PyAVCapture | None:
        if self._pyav:
            # As for OpenCV below: start on the first packets instead of probing the stream for seconds.
            options = {"analyzeduration": "0", "probesize": "32"}
            if self.cam.source_kind == "rtsp":
                options["rtsp_transport"] = self.cam.rtsp_transport
            cap = PyAVCapture(self.cam.url, options=options, open_timeout_s=self.cam.open_timeout_s,
                              read_timeout_s=self.cam.read_timeout_s, threads=DECODE_THREADS, wanted=self._sub.due)
            return cap if cap.isOpened() else None
        if self.cam.source_kind == "rtsp":
            # FFmpeg reads this at open time; one camera per decoder process, so no race.
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = self._capture_options()
        params = _capture_params(cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.cam.open_timeout_s * 1000),
                                 cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.cam.read_timeout_s * 1000))
        cap = cv2.VideoCapture(self.cam.url, cv2.CAP_FFMPEG, params)
        if cap.isOpened():
            return cap
        cap.release()
        return None

    def _connect(self) -> bool:
        """Open a new capture, retrying with backoff until it works or close() is called.

        The very first open is tried at once; every later attempt waits the
        backoff first, so a dead server costs one attempt per 0.5, 1, 2, 4, 5, 5... seconds.
        """
        attempt_now, self._first_open = self._first_open, False
        while not self.closed:
            if not attempt_now:
                if self._closed.wait(self._backoff):
                    return False
                self._backoff = min(self._backoff * 2, BACKOFF_CAP_S)
            attempt_now = False
            self._cap = self._open()
            if self._cap is not None:
                # Streams that announce their rate get the jitter tolerance it allows.
                self._sub.set_source_fps(_capture_fps(self._cap))
                return True
            self.open_failures += 1
            # Logged once per outage: the state stays "lost" across the retries that follow.
            if not self._open_failure_logged:
                self._open_failure_logged = True
                why = f"cannot open stream: {self._diagnose()}"
                if self.state == "lost":  # lost while reading: say why it does not come back
                    self.reason = why
                    log.warning("camera %s (%s): still lost (%s)", self.cam.id, redact_url(self.cam.url), why)
                self._set_state("lost", why)
        return False

    def _diagnose(self) -> str:
        """Why an open failed, as far as a plain TCP connect can tell (OpenCV does not say)."""
        parts = urlsplit(self.cam.url)
        default = 554 if self.cam.source_kind == "rtsp" else (443 if parts.scheme == "https" else 80)
        try:
            port = parts.port or default
        except ValueError:
            return "bad port in URL"
        try:
            with socket.create_connection((parts.hostname, port), timeout=min(2.0, self.cam.open_timeout_s)):
                pass
        except OSError as exc:
            return f"cannot connect to {parts.hostname}:{port} ({exc.strerror or exc})"
        return f"{parts.hostname}:{port} accepts connections but sent no playable {self.cam.source_kind} stream"

    def __next__(self) -> Frame:
        while not self.closed:
            if self._cap is None:
                if self._ever_live:
                    self.reconnects += 1
                if not self._connect():
                    break
            started = time.monotonic()
            if not self._cap.grab():
                if time.monotonic() - started >= 0.9 * self.cam.read_timeout_s:
                    self._drop_capture(f"no frame within {self.cam.read_timeout_s:g} s")
                else:
                    self._drop_capture("stream closed or unreadable")
                continue
            t = time.time()
            if not self._sub.keep(self._cap.frame_time if self._pyav else t):
                continue
            ok, image = self._cap.retrieve()
            if not ok or image is None or image.size == 0:
                self.invalid += 1
                self._drop_capture("frame did not decode")
                continue
            self._ever_live = True
            self._open_failure_logged = False
            self._backoff = BACKOFF_START_S
            self.last_frame_at = t
            self._set_state("live")
            return self._frame(t, t, None, image, source=self.cam.source_kind)
        self._release()
        raise StopIteration

    def _drop_capture(self, why: str) -> None:
        self._release()
        self._set_state("lost", why)

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def open_source(cam: CameraConfig, base_dir: Path | None = None) -> FrameSource:
    """The source that reads `cam.url` (files relative to `base_dir`)."""
    kind = cam.source_kind
    if cam.onvif is not None:
        from ingest.onvif.client import with_onvif_stream  # zeep is heavy: only when configured

        cam = with_onvif_stream(cam)
        kind = cam.source_kind
    if kind in ("rtsp", "http"):
        return RtspSource(cam)
    if kind == "generated":
        from ingest.generated import GeneratedSource  # generated imports this module

        return GeneratedSource.from_camera(cam)
    return FileSource(cam, cam.resolve_path(base_dir))
