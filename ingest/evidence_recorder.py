"""Per-camera pre/post buffers of analysed frames, turned into an MP4 clip for each alert.

The analysis loop only pays for a downscale (or copy) of each frame and a non-blocking queue
put: JPEG encoding, clip rendering, H.264 encoding and the upload run in background threads, and
a full queue drops the frame (counted) rather than stalling analysis. An alert gets its clip URI
at once (derived from the alert id); the file appears `post_s` seconds later plus encoding time.

Pre-buffer format: JPEG. Measured on vtest.avi (768x576): raw BGR is 1296 KB a frame, JPEG q80
about 70 KB at ~4 ms to encode (docs/alerts.md), so 5 s at 10 fps costs ~3.5 MB per camera
instead of ~65 MB; frames wider than `max_width` are scaled down first.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from alerts.evidence.clip import ClipFrame, ClipSpec, write_clip
from alerts.evidence.config import EvidenceConfig
from alerts.evidence.retention import apply_retention_all
from alerts.evidence.store import CLIP_TYPE, EvidenceStore, clip_key, open_store
from alerts.model import Alert, Clip, TrackPoint
from detectors.detections import Detections

log = logging.getLogger("lookout.evidence")

_STOP = object()
_MAX_TRACK_POINTS = 100  # keeps the alert message small; the clip has every frame


@dataclass
class RecorderStats:
    frames: int = 0
    dropped: int = 0  # frames not buffered because the background thread was behind
    clips_written: int = 0
    clips_failed: int = 0
    clips_pending: int = 0


@dataclass
class _Pending:
    key: str
    spec: ClipSpec
    until: float  # frame time at which the post-buffer is complete
    deadline: float  # monotonic time after which the clip is written with what there is
    frames: list[ClipFrame] = field(default_factory=list)
    nbytes: int = 0


class EvidenceRecorder:
    def __init__(self, cfg: EvidenceConfig, store: EvidenceStore, *, snapshots_dir: Path | None = None,
                 queue_frames: int = 32) -> None:
        self.cfg = cfg
        self.store = store
        self.snapshots_dir = snapshots_dir
        self.stats = RecorderStats()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_frames)
        # Loop thread only: recent anchors per camera, for the alert's track points.
        self._tracks: dict[str, deque[tuple[float, np.ndarray, np.ndarray]]] = {}
        self._clips: dict[str, Clip] = {}  # alert id -> clip, so lifecycle follow-ups reuse it
        # Background thread only:
        self._rings: dict[str, deque[ClipFrame]] = {}
        self._ring_bytes: dict[str, int] = {}
        self._pending: dict[str, list[_Pending]] = {}
        self._encoder = ThreadPoolExecutor(1, thread_name_prefix="evidence-encode")
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="evidence-buffer", daemon=True)
        self._next_retention = 0.0
        self._cap = int(cfg.buffer_mb_per_camera * 1024 * 1024)

    def start(self) -> "EvidenceRecorder":
        self._thread.start()
        return self

    # -- analysis loop side -------------------------------------------------------------------

    def on_frame(self, frame, pipeline, alerts: list[Alert]) -> list[Alert]:
        """Worker hook: buffer the analysed frame and give each new alert its clip."""
        tracks = pipeline.last_tracks
        self.offer(frame.camera_id, frame.t, frame.image, tracks)
        if not alerts:
            return alerts
        shapes = pipeline.shapes()
        return [self.attach(a, t=frame.t, shapes=shapes) for a in alerts]

    def offer(self, camera_id: str, t: float, image: np.ndarray, tracks: Detections | None = None) -> None:
        """Buffer one analysed frame. Never blocks: the image is scaled or copied (the caller's may
        be shared memory that is reused) and queued; a full queue drops it."""
        self.stats.frames += 1
        tracks = tracks if tracks is not None else Detections.empty()
        hist = self._tracks.setdefault(camera_id, deque())
        if len(tracks):
            hist.append((t, tracks.tracker_id.copy(), tracks.anchors().astype(np.float32)))
        while hist and hist[0][0] < t - self.cfg.pre_s:
            hist.popleft()
        if self._queue.full():
            self.stats.dropped += 1
            return
        h, w = image.shape[:2]
        scale = min(1.0, self.cfg.max_width / w)
        if scale < 1.0:
            small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        else:
            small = np.array(image, copy=True)
        item = ("frame", camera_id, t, small, scale, tracks.xyxy * scale, tracks.tracker_id.copy(),
                tracks.class_id.copy(), tracks.confidence.copy())
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.stats.dropped += 1

    def known_clip(self, alert: Alert) -> Alert:
        """A lifecycle follow-up (update, end) with the clip its start got; unchanged otherwise."""
        known = self._clips.get(alert.alert_id)
        return alert.model_copy(update={"clip": known}) if known is not None else alert

    def attach(self, alert: Alert, *, t: float, shapes=()) -> Alert:
        """The alert with its clip reference; starts recording the clip for a new alert id."""
        if alert.alert_id in self._clips or alert.lifecycle != "start":
            # Follow-ups share the start's clip; never re-record (it would overwrite that clip).
            return self.known_clip(alert)
        key = clip_key(alert.alert_id)
        track_id = alert.objects[0].track_id if alert.objects else None
        clip = Clip(uri=self.store.uri(key), content_type=CLIP_TYPE, pre_s=self.cfg.pre_s, post_s=self.cfg.post_s,
                    track_id=track_id, track=self._track_points(alert.source.id, track_id, t))
        self._clips[alert.alert_id] = clip
        if len(self._clips) > 10_000:
            self._clips.pop(next(iter(self._clips)))
        spec = ClipSpec(title=f"{alert.source.id} | {alert.rule.id} ({alert.rule.kind})", t_alert=t,
                        track_ids=frozenset(o.track_id for o in alert.objects), shapes=tuple(shapes))
        with self._lock:
            self.stats.clips_pending += 1
        # Triggers block if the queue is full: a trigger must not be lost (frames may be).
        self._queue.put(("trigger", alert.source.id, t, key, spec))
        return alert.model_copy(update={"clip": clip})

    def _track_points(self, camera_id: str, track_id: int | None, t: float) -> list[TrackPoint]:
        if track_id is None:
            return []
        points = []
        for ft, ids, anchors in self._tracks.get(camera_id, ()):
            hit = np.flatnonzero(ids == track_id)
            if len(hit):
                x, y = anchors[hit[0]]
                points.append(TrackPoint(t=round(ft - t, 3), x=round(float(x), 1), y=round(float(y), 1)))
        if len(points) > _MAX_TRACK_POINTS:
            idx = np.linspace(0, len(points) - 1, _MAX_TRACK_POINTS).round().astype(int)
            points = [points[i] for i in idx]
        return points

    def tick(self) -> None:
        """Worker hook, called every loop round: queue retention when it is due (cheap)."""
        now = time.monotonic()
        if now >= self._next_retention:
            self._next_retention = now + self.cfg.retention_every_s
            self._encoder.submit(self._retention)

    def close(self, timeout: float = 30.0) -> None:
        """Write every clip still collecting (with the frames it has) and wait for the writes."""
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._encoder.shutdown(wait=True)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no clip is pending (tests; shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.stats.clips_pending == 0:
                    return True
            time.sleep(0.05)
        return False

    # -- background side -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.25)
            except queue.Empty:
                item = None
            if item is _STOP:
                for cam in list(self._pending):
                    for p in self._pending.pop(cam):
                        self._finish(p)
                return
            try:
                if item is not None and item[0] == "frame":
                    self._on_frame(*item[1:])
                elif item is not None:
                    self._on_trigger(*item[1:])
                self._expire()
            except Exception:  # never let one bad frame end the recorder
                log.exception("evidence buffer error")

    def _on_frame(self, cam: str, t: float, image: np.ndarray, scale: float, boxes, ids, cls, conf) -> None:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality])
        if not ok:
            return
        cf = ClipFrame(t, data.tobytes(), scale, boxes.astype(np.float32), ids, cls, conf)
        ring = self._rings.setdefault(cam, deque())
        ring.append(cf)
        self._ring_bytes[cam] = self._ring_bytes.get(cam, 0) + cf.nbytes
        while ring and (ring[0].t < t - self.cfg.pre_s or self._ring_bytes[cam] > self._cap):
            self._ring_bytes[cam] -= ring.popleft().nbytes
        still = []
        for p in self._pending.get(cam, []):
            p.frames.append(cf)
            p.nbytes += cf.nbytes
            if t >= p.until or p.nbytes > 2 * self._cap:
                self._finish(p)
            else:
                still.append(p)
        self._pending[cam] = still

    def _on_trigger(self, cam: str, t: float, key: str, spec: ClipSpec) -> None:
        frames = [cf for cf in self._rings.get(cam, ()) if cf.t >= t - self.cfg.pre_s - 1e-6]
        p = _Pending(key, spec, until=t + self.cfg.post_s,
                     deadline=time.monotonic() + 2 * self.cfg.post_s + 10, frames=frames,
                     nbytes=sum(cf.nbytes for cf in frames))
        if self.cfg.post_s <= 0:
            self._finish(p)
        else:
            self._pending.setdefault(cam, []).append(p)

    def _expire(self) -> None:
        # A camera that stops delivering frames still gets its clips, shorter.
        now = time.monotonic()
        for cam, plist in self._pending.items():
            late = [p for p in plist if now >= p.deadline]
            for p in late:
                log.info("clip %s: stream stalled, writing %d frame(s)", p.key, len(p.frames))
                self._finish(p)
            if late:
                self._pending[cam] = [p for p in plist if p not in late]

    def _finish(self, p: _Pending) -> None:
        self._encoder.submit(self._write, p)

    def _write(self, p: _Pending) -> None:
        try:
            if not p.frames:
                raise ValueError("no frames were buffered")
            with tempfile.TemporaryDirectory(prefix="lookout-clip-") as tmp:
                path = Path(tmp) / "clip.mp4"
                started = time.perf_counter()
                n = write_clip(p.frames, p.spec, path)
                self.store.put_file(p.key, path, CLIP_TYPE)
            log.info("clip %s: %d frames, %.2f s to encode and store", p.key, n, time.perf_counter() - started)
            with self._lock:
                self.stats.clips_written += 1
        except Exception as exc:
            log.error("clip %s not written: %s", p.key, exc)
            with self._lock:
                self.stats.clips_failed += 1
        finally:
            with self._lock:
                self.stats.clips_pending -= 1

    def _retention(self) -> None:
        try:
            apply_retention_all(self.store, self.snapshots_dir, retention_days=self.cfg.retention_days,
                                max_gb=self.cfg.max_gb)
        except Exception as exc:  # e.g. the bucket is unreachable: try again next period
            log.warning("evidence retention failed: %s", exc)


def open_recorder(cfg: EvidenceConfig, data_dir: Path) -> EvidenceRecorder | None:
    """The worker's recorder, started; None when `evidence.enabled` is false."""
    if not cfg.enabled:
        return None
    store = open_store(cfg, data_dir)
    return EvidenceRecorder(cfg, store, snapshots_dir=Path(data_dir) / "snapshots").start()
