"""A stream decoded by PyAV that decodes only what analysis needs.

A camera sends 25 frames a second; analysis looks at 5. Every frame a later frame is predicted
from must be decoded, but a *non-reference* frame (most B-frames) can be skipped whole: FFmpeg's
`skip_frame = NONREF` discards it before any decoding work. OpenCV's capture cannot set that per
frame, so this capture asks, for each packet, whether its presentation time is one analysis
wants (`GridSampler.due`) and lets FFmpeg skip the non-reference ones that are not. On the 720p
benchmark clip (x264 defaults, 2 B-frames per P) that is ~35 % less decoding CPU; on a stream
without B-frames (many IP cameras) every frame is a reference and nothing can be skipped.
Decoded frames are converted to BGR only when retrieved, i.e. only the analysed ones.

The interface is the part of `cv2.VideoCapture` the sources use (`isOpened`, `grab`, `retrieve`,
`release`) plus `frame_time` (media seconds of the grabbed frame, from its pts) and `fps`.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable

import av
import numpy as np

from ingest.config import redact_url

log = logging.getLogger(__name__)
# Consecutive packets that fail to decode before the capture gives up (the source reconnects).
MAX_BAD_PACKETS = 50


class GridSampler:
    """Picks the frames nearest to a fixed grid of analysis times, from presentation times alone.

    The grid is anchored at the first time seen and spaced 1/fps. A frame at `t` is due when a
    grid point lies within half a source frame interval of it, so a 25 fps stream analysed at
    5 fps yields exactly every 5th frame, and the decision for a packet can be made before it
    is decoded (packets come in decode order, not presentation order). Times going backwards
    (a reconnect, a file starting over) re-anchor the grid.
    """

    def __init__(self, fps: float, source_fps: float | None = None):
        self.period = 1.0 / fps
        self.interval = 1.0 / source_fps if source_fps and 0 < source_fps < 1000 else 0.0
        self.anchor: float | None = None
        self._newest: float | None = None

    def set_source_fps(self, source_fps: float | None) -> None:
        if source_fps and 0 < source_fps < 1000:
            self.interval = 1.0 / source_fps

    def due(self, t: float) -> bool:
        if self._newest is not None and not self.interval and t > self._newest:
            self.interval = t - self._newest  # rate unknown: learn it from the first step
        if self.anchor is None or (self._newest is not None and t < self._newest - 2 * self.period - self.interval):
            self.anchor, self._newest = t, None
        self._newest = t if self._newest is None else max(self._newest, t)
        half = self.interval / 2 if self.interval else self.period / 2
        # The first grid point at or after t - half; due when it lies before t + half.
        k = math.ceil((t - half - self.anchor) / self.period - 1e-9)
        return self.anchor + k * self.period < t + half - 1e-9

    # The OpenCV sources' sampler is asked once per decoded frame; same question here.
    keep = due


class PyAVCapture:
    """One opened stream (file path or URL). `wanted(t)` decides, per packet, whether a
    non-reference frame at media time `t` is worth decoding (None: decode everything)."""

    def __init__(self, url: str, *, options: dict[str, str] | None = None, open_timeout_s: float | None = None,
                 read_timeout_s: float | None = None, threads: int = 1,
                 wanted: Callable[[float], bool] | None = None):
        self.url = url
        self.safe_url = redact_url(url)  # FFmpeg's errors quote the URL, password and all
        self.wanted = wanted
        self.frame_time = 0.0
        self.fps = 0.0
        self.bad_packets = 0
        self._pending: deque = deque()
        self._frame = None
        self._container = None
        self._packets = None
        self._eof = False
        self._first_pts: int | None = None
        timeout = None if open_timeout_s is None else (open_timeout_s, read_timeout_s or open_timeout_s)
        try:
            self._container = av.open(url, options=options or {}, timeout=timeout)
            streams = self._container.streams.video
            if not streams:
                raise av.error.InvalidDataError(0, "no video stream")
            self._stream = streams[0]
            ctx = self._stream.codec_context
            ctx.thread_count = threads if threads > 0 else 0
            rate = self._stream.average_rate or self._stream.guessed_rate
            self.fps = float(rate) if rate and 0 < float(rate) < 1000 else 0.0
            self._time_base = float(self._stream.time_base or 0) or (1.0 / 90000)
            self._packets = self._container.demux(self._stream)
        except (av.error.FFmpegError, OSError) as exc:
            log.debug("pyav: cannot open %s: %s", self.safe_url, self._safe(exc))
            self.release()

    def _safe(self, exc: BaseException) -> str:
        return str(exc).replace(self.url, self.safe_url)

    def isOpened(self) -> bool:  # noqa: N802 (cv2.VideoCapture's name)
        return self._container is not None

    def _time(self, pts: int | None) -> float | None:
        if pts is None:
            return None
        if self._first_pts is None:
            self._first_pts = pts
        return (pts - self._first_pts) * self._time_base

    def grab(self) -> bool:
        """Decode up to the next frame to output; False at the end of the stream or on an error."""
        if self._container is None:
            return False
        while not self._pending:
            if self._eof:
                return False
            try:
                packet = next(self._packets)
            except StopIteration:
                packet = None
            except (av.error.FFmpegError, OSError) as exc:  # read timeout, connection closed
                log.debug("pyav: read failed on %s: %s", self.safe_url, self._safe(exc))
                return False
            if packet is None or packet.size == 0 and packet.pts is None:
                self._eof = True
                packet = None  # flush: frames held back for reordering come out now
            else:
                t = self._time(packet.pts)
                skip = self.wanted is not None and t is not None and not self.wanted(t)
                self._stream.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
            try:
                frames = self._stream.codec_context.decode(packet)
            except av.error.EOFError:
                frames = []
            except av.error.FFmpegError as exc:  # a corrupt packet: skip it, give up after many
                self.bad_packets += 1
                log.debug("pyav: packet did not decode (%s)", exc)
                if self.bad_packets >= MAX_BAD_PACKETS:
                    return False
                continue
            self.bad_packets = 0
            self._pending.extend(frames)
        self._frame = self._pending.popleft()
        t = self._time(self._frame.pts)
        self.frame_time = t if t is not None else self.frame_time + (1.0 / self.fps if self.fps else 0.04)
        return True

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        """The grabbed frame as BGR (the only frames that pay for the colour conversion)."""
        if self._frame is None:
            return False, None
        try:
            return True, self._frame.to_ndarray(format="bgr24")
        except (av.error.FFmpegError, ValueError) as exc:
            log.debug("pyav: frame did not convert (%s)", exc)
            return False, None

    def release(self) -> None:
        container, self._container = self._container, None
        self._packets = None
        self._pending.clear()
        self._frame = None
        if container is not None:
            try:
                container.close()
            except (av.error.FFmpegError, OSError):
                pass
