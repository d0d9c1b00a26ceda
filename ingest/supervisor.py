"""Runs one decoder process per camera, restarts crashed ones, and merges their frames.

Threads in this (main) process:
- one reader per decoder generation: drains that decoder's queue, maps its shared-memory rings,
  updates health and puts `(ring, slot, header)` into one in-process inbox;
- one monitor: notices dead decoders and restarts them with exponential backoff
  (0.5 s → 30 s; reset once a decoder has run for 30 s). A decoder that ended normally (a file
  without loop) is not restarted.
Processes are started with 'spawn' because the caller has threads (fork would copy their locks).
"""

from __future__ import annotations

import glob
import logging
import math
import os
import queue as queue_mod
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import multiprocessing as mp

from ingest.config import CameraConfig, redact_url
from ingest.decoder import EXIT_ENDED, StopFlag, run_decoder
from ingest.frame import Frame
from ingest.health import HealthMetrics, StreamHealth
from ingest.shm import FrameRing

log = logging.getLogger(__name__)
RESTART_BACKOFF_START_S = 0.5
RESTART_BACKOFF_CAP_S = 30.0
HEALTHY_RUN_S = 30.0
FPS_WINDOW_S = 5.0
# Ring size when none is given: this many seconds of analysed frames, 3..8 slots. A 720p slot is
# 2.7 MB of shared memory per camera; 0.8 s rides out a slow analysis step (a snapshot, a rules
# reload) without dropping, and anything longer is a backlog that only adds latency.
# Decoder counters that add up over decoder restarts (each generation starts from zero).
COUNTERS = ("dropped", "invalid", "reconnects", "open_failures")
RING_SECONDS = 0.8
RING_SLOTS_MIN, RING_SLOTS_MAX = 3, 8


def ring_slots_for(cam: CameraConfig) -> int:
    return max(RING_SLOTS_MIN, min(RING_SLOTS_MAX, math.ceil(cam.analysis_fps * RING_SECONDS)))


@dataclass
class _Worker:
    cam: CameraConfig
    health: StreamHealth
    metrics: HealthMetrics
    prefix: str = ""
    gen: int = 0
    proc: Any = None
    queue: Any = None
    stop_event: Any = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = RESTART_BACKOFF_START_S
    finished: bool = False
    rings: dict[str, FrameRing] = field(default_factory=dict)  # name -> our mapping
    stale_rings: list[FrameRing] = field(default_factory=list)  # unlinked, unmapped when free
    ring_prefixes: list[str] = field(default_factory=list)  # every generation's shm prefix
    seq_base: int = 0
    last_seq: int = 0
    counters_base: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    gen_counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    arrivals: deque = field(default_factory=lambda: deque(maxlen=512))


class WorkerSupervisor:
    """Decoder processes for `cameras` (disabled ones are skipped); files relative to `base_dir`.

    `ring_slots`: shared-memory frame slots per camera (None: `ring_slots_for(camera)`).

    start() once, frames() as often as needed, stop() once (a stopped supervisor stays stopped).
    """

    def __init__(self, cameras: list[CameraConfig], base_dir: Path | None = None,
                 ring_slots: int | None = None, log_level: int = logging.INFO):
        self.base_dir = Path(base_dir) if base_dir else None
        self.ring_slots = ring_slots
        self.log_level = log_level
        self._ctx = mp.get_context("spawn")
        self._id = secrets.token_hex(3)
        self._workers = {c.id: _Worker(c, StreamHealth(c.id), HealthMetrics(c.id))
                         for c in cameras if c.enabled}
        self._inbox: queue_mod.Queue = queue_mod.Queue()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._readers: list[threading.Thread] = []
        self._held: tuple[FrameRing, int] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            for w in self._workers.values():
                self._spawn(w)
        self._monitor = threading.Thread(target=self._watch, name="ingest-monitor", daemon=True)
        self._monitor.start()

    def _spawn(self, w: _Worker) -> None:
        w.gen += 1
        # Short, unique, POSIX-safe: shm names are global on the machine.
        w.prefix = f"lk{self._id}-{w.cam.id[:40]}-{w.gen}"
        w.ring_prefixes.append(w.prefix)
        slots = self.ring_slots or ring_slots_for(w.cam)
        w.queue = self._ctx.Queue(maxsize=slots + 32)
        w.stop_event = StopFlag(self._ctx)
        w.proc = self._ctx.Process(
            target=run_decoder, name=f"decoder-{w.cam.id}", daemon=True,
            args=(w.cam,  # the model itself: a JSON dump would mask SecretStr passwords
                  str(self.base_dir) if self.base_dir else None,
                  {"prefix": w.prefix, "slots": slots}, w.queue, w.stop_event, self.log_level))
        w.proc.start()
        w.started_at = time.monotonic()
        w.restart_at = None
        w.health.pid = w.proc.pid
        w.health.state = "connecting"
        w.metrics.update(w.health)
        self._readers = [r for r in self._readers if r.is_alive()]
        reader = threading.Thread(target=self._read, args=(w, w.gen, w.queue, w.proc),
                                  name=f"ingest-reader-{w.cam.id}-{w.gen}", daemon=True)
        self._readers.append(reader)
        reader.start()
        log.info("camera %s (%s): decoder started, pid %s", w.cam.id, redact_url(w.cam.url), w.proc.pid)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every decoder (politely, then SIGTERM, then SIGKILL) and free shared memory."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(5.0)  # first, so it cannot restart a decoder behind our back
        with self._lock:
            workers = list(self._workers.values())
        for w in workers:
            if w.stop_event is not None:
                w.stop_event.set()
        deadline = time.monotonic() + timeout
        for w in workers:
            if w.proc is not None:
                w.proc.join(max(0.1, deadline - time.monotonic()))
        for w in workers:
            if w.proc is not None and w.proc.is_alive():
                w.proc.terminate()
                w.proc.join(1.0)
                if w.proc.is_alive():
                    w.proc.kill()
                    w.proc.join(1.0)
        for r in self._readers:
            r.join(2.0)
        self._release_held()
        for w in workers:
            self._free_rings(w, everything=True)

    def __enter__(self) -> WorkerSupervisor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- frames --------------------------------------------------------------------------

    def frames(self, timeout: float = 1.0, copy: bool = True,
               max_s: float | None = None) -> Iterator[Frame]:
        """Frames from every decoder, in arrival order (each camera's in its own order).

        Ends when no frame came for `timeout` seconds, after `max_s` seconds when given (so a
        caller can do periodic work under a steady stream), or when stopped; call again to go on.
        copy=True (default) gives each frame its own image (one memcpy, safe to keep, e.g. as a
        motion gate's previous frame). copy=False gives a view on shared memory, valid only
        until the next frame is pulled from this iterator or the iterator is closed.
        """
        end = None if max_s is None else time.monotonic() + max_s
        try:
            while not self._stopping.is_set():
                self._release_held()
                if end is not None and time.monotonic() >= end:
                    return
                try:
                    w, ring, slot, hdr = self._inbox.get(timeout=timeout)
                except queue_mod.Empty:
                    return
                image = ring.get(slot)
                if copy:
                    image = image.copy()
                    self._release(ring, slot)
                else:
                    self._held = (ring, slot)
                yield Frame(hdr["camera_id"], hdr["seq"], hdr["t"], hdr["t_wall"],
                            hdr["media_time"], image, dict(hdr.get("meta") or {}))
        finally:
            self._release_held()

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._release(*held)

    def _release(self, ring: FrameRing, slot: int) -> None:
        with self._lock:
            ring.release(slot)
            ring.outstanding -= 1

    # -- health --------------------------------------------------------------------------

    def health(self) -> dict[str, StreamHealth]:
        """A snapshot per camera. A live stream with no frame for 3 analysis periods (at least
        3 s) reads as "stalled"."""
        out = {}
        now = time.time()
        with self._lock:
            for cid, w in self._workers.items():
                h = replace(w.health)
                while w.arrivals and now - w.arrivals[0] > FPS_WINDOW_S:
                    w.arrivals.popleft()
                h.fps_in = len(w.arrivals) / FPS_WINDOW_S if w.arrivals else 0.0
                stall_after = max(3.0 / w.cam.analysis_fps, 3.0)
                if h.state == "live" and h.last_frame_at and now - h.last_frame_at > stall_after:
                    h.state = "stalled"
                w.metrics.update(h)
                out[cid] = h
        return out

    def pid(self, camera_id: str) -> int | None:
        """The current decoder process of `camera_id` (None when not running)."""
        w = self._workers[camera_id]
        return w.proc.pid if w.proc is not None and w.proc.is_alive() else None

    # -- threads -------------------------------------------------------------------------

    def _read(self, w: _Worker, gen: int, q: Any, proc: Any) -> None:
        """Drain one decoder generation's queue until it is dead and empty (or we stop)."""
        while True:
            try:
                kind, payload = q.get(timeout=0.2)
            except queue_mod.Empty:
                if not proc.is_alive() or self._stopping.is_set():
                    # Anything still in the pipe was flushed before exit; one last drain.
                    if q.empty() or self._stopping.is_set():
                        return
                continue
            except (EOFError, OSError, ValueError):
                return
            try:
                self._handle(w, gen, kind, payload)
            except Exception:  # one bad message must not kill the reader
                log.exception("camera %s: bad message %r from decoder", w.cam.id, kind)

    def _handle(self, w: _Worker, gen: int, kind: str, p: dict[str, Any]) -> None:
        with self._lock:
            current = gen == w.gen
            if kind == "ring":
                if not current:  # a dead generation's late message: its rings are gone
                    return
                for ring in w.rings.values():  # the decoder moved on: nothing new arrives there
                    ring.unlink()
                    w.stale_rings.append(ring)
                w.rings = {p["name"]: FrameRing(p["name"], p["slots"], tuple(p["shape"]), create=False)}
                self._reap(w)
            elif kind == "frame":
                ring = w.rings.get(p["ring"])
                if ring is None:
                    return
                seq = w.seq_base + p["seq"]
                w.last_seq = max(w.last_seq, seq)
                w.health.frames += 1
                w.health.last_frame_at = p["t_wall"]
                w.arrivals.append(time.time())
                if current and w.health.state != "live":
                    w.health.state = "live"
                ring.outstanding += 1
                self._inbox.put((w, ring, p["slot"], p | {"seq": seq}))
            elif kind == "health" and current:
                w.gen_counters = {k: int(p.get(k, 0)) for k in COUNTERS}
                for k in COUNTERS:
                    setattr(w.health, k, w.counters_base[k] + w.gen_counters[k])
                w.health.state = p["state"]
                w.health.reason = p.get("reason", "")
            elif kind == "exit" and current:
                w.health.state = p["state"]
                w.health.error = p.get("error")
            w.metrics.update(w.health)

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            with self._lock:
                for w in self._workers.values():
                    self._check(w)

    def _check(self, w: _Worker) -> None:
        if w.finished or w.proc is None or w.proc.is_alive():
            self._reap(w)
            return
        now = time.monotonic()
        if w.restart_at is None:
            code = w.proc.exitcode
            if code == EXIT_ENDED and w.health.state == "ended":
                w.finished = True
                w.health.pid = None
                log.info("camera %s: source ended", w.cam.id)
                w.metrics.update(w.health)
                return
            if now - w.started_at > HEALTHY_RUN_S:
                w.backoff = RESTART_BACKOFF_START_S
            w.restart_at = now + w.backoff
            log.warning("camera %s: decoder pid %s died (exit code %s); restarting in %.1f s",
                        w.cam.id, w.proc.pid, code, w.backoff)
            w.backoff = min(w.backoff * 2, RESTART_BACKOFF_CAP_S)
            w.health.state = "lost"
            w.health.pid = None
            w.metrics.update(w.health)
        elif now >= w.restart_at:
            # Counters of the dead generation become the base of the next one.
            for k in COUNTERS:
                w.counters_base[k] += w.gen_counters[k]
            w.gen_counters = dict.fromkeys(COUNTERS, 0)
            w.seq_base = w.last_seq
            self._free_rings(w)
            w.health.restarts += 1
            self._spawn(w)

    # -- shared memory -------------------------------------------------------------------

    def _free_rings(self, w: _Worker, everything: bool = False) -> None:
        """Unlink the rings of a dead generation (frames already queued keep their mapping)."""
        for ring in w.rings.values():
            ring.unlink()
            w.stale_rings.append(ring)
        w.rings = {}
        # A decoder killed before its ring message was read leaves names we never saw.
        for prefix in w.ring_prefixes:
            for path in glob.glob(f"/dev/shm/{prefix}-*"):
                FrameRing.unlink_name(os.path.basename(path))
        w.ring_prefixes = [w.prefix] if not everything and w.proc is not None and w.proc.is_alive() else []
        if everything:
            for ring in w.stale_rings:
                ring.close()
            w.stale_rings = []
        else:
            self._reap(w)

    def _reap(self, w: _Worker) -> None:
        """Unmap stale rings once no frame of theirs is queued or held (close() refuses while a
        caller still has a view on one)."""
        if w.stale_rings:
            w.stale_rings = [r for r in w.stale_rings if r.outstanding > 0 or not r.close()]
