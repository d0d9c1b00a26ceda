"""The decoder process: one camera, one source, frames into a shared-memory ring.

Everything it tells the supervisor goes on its own small queue as `(kind, payload)` tuples:
- `("ring", {"name", "slots", "shape"})` before the first frame and whenever the frame size
  changes (the decoder never unlinks rings: the supervisor does, once it has mapped them);
- `("frame", {"camera_id", "seq", "t", "t_wall", "media_time", "meta", "ring", "slot", "shape"})`;
- `("health", {"state", "reason", "frames", "dropped", "invalid", "reconnects", "open_failures",
  "t_wall"})` on every state change and at least once a second;
- `("exit", {"state", "error"})` when the source ends or fails.
A full ring or a full queue drops the frame and counts it (`dropped`); a frame with no usable
image (empty, wrong type) is refused, counted (`invalid`) and logged with the camera id; nothing
here ever blocks on the consumer. Each decoder has its own queue, so a decoder killed while
writing cannot wedge another.
"""

from __future__ import annotations

import logging
import queue as queue_mod
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from ingest.config import CameraConfig
from ingest.frame import Frame
from ingest.shm import FrameRing
from ingest.sources import FrameSource, open_source

log = logging.getLogger(__name__)
HEALTH_EVERY_S = 1.0
INVALID_LOG_EVERY = 100  # log the 1st, 101st, ... invalid frame of a camera, not every one
EXIT_ENDED, EXIT_ERROR, EXIT_UNAVAILABLE = 0, 1, 2


class StopFlag:
    """The supervisor's stop signal: one shared byte, no lock.

    Not a multiprocessing.Event: its set() waits for every process that slept in wait() to
    wake up, and hangs forever when one of them has died (a killed or finished decoder).
    """

    def __init__(self, ctx: Any):
        self._flag = ctx.RawValue("b", 0)

    def set(self) -> None:
        self._flag.value = 1

    def is_set(self) -> bool:
        return bool(self._flag.value)

    def wait(self, timeout: float | None = None, poll: float = 0.1) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            if end is not None and time.monotonic() >= end:
                return False
            time.sleep(poll)
        return True


class _Decoder:
    def __init__(self, cam: CameraConfig, ring_spec: dict[str, Any], out_q: Any):
        self.cam = cam
        self.prefix: str = ring_spec["prefix"]
        self.slots: int = int(ring_spec.get("slots", 8))
        self.out_q = out_q
        self.ring: FrameRing | None = None
        self.rings_made = 0
        self.frames = 0
        self.dropped = 0
        self.invalid = 0  # frames refused here (no usable image)
        self.source: FrameSource | None = None
        self._last_health = 0.0

    def send(self, kind: str, payload: dict[str, Any]) -> bool:
        try:
            self.out_q.put_nowait((kind, payload))
            return True
        except queue_mod.Full:
            return False

    def health(self) -> None:
        src = self.source
        self._last_health = time.monotonic()
        self.send("health", {"state": src.state if src else "connecting", "reason": src.reason if src else "",
                             "frames": self.frames,
                             "dropped": self.dropped + (self.ring.dropped if self.ring else 0),
                             "invalid": self.invalid + (src.invalid if src else 0),
                             "reconnects": src.reconnects if src else 0,
                             "open_failures": src.open_failures if src else 0, "t_wall": time.time()})

    def _ring_for(self, shape: tuple[int, ...]) -> FrameRing:
        if self.ring is not None and self.ring.shape == shape:
            return self.ring
        if self.ring is not None:
            # The supervisor unlinks the old ring once it has attached the new one (it may not
            # have mapped the old one yet); here we only keep its drop count and unmap it.
            self.dropped += self.ring.dropped
            self.ring.close()
        self.ring = FrameRing(f"{self.prefix}-{self.rings_made}", self.slots, shape, create=True)
        self.rings_made += 1
        # The ring message must arrive, or every following frame is unreadable: wait for room.
        self.out_q.put(("ring", self.ring.spec()), timeout=10)
        return self.ring

    def _refuse(self, frame: Frame) -> str | None:
        """Why `frame` cannot go to analysis, or None when it can."""
        image = frame.image
        if not isinstance(image, np.ndarray):
            return f"image is {type(image).__name__}, not an array"
        if image.size == 0:
            return f"empty image {image.shape}"
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            return f"image {image.shape} {image.dtype} is not H x W x 3 uint8"
        return None

    def push(self, frame: Frame) -> None:
        why = self._refuse(frame)
        if why is not None:
            self.invalid += 1
            if self.invalid % INVALID_LOG_EVERY == 1:
                log.warning("camera %s: invalid frame refused (%s); %d so far", self.cam.id, why, self.invalid)
            if time.monotonic() - self._last_health >= HEALTH_EVERY_S:
                self.health()
            return
        ring = self._ring_for(tuple(frame.image.shape))
        slot = ring.try_put(frame.image)
        if slot is not None:
            header = frame.header() | {"ring": ring.name, "slot": slot, "shape": ring.shape}
            if self.send("frame", header):
                self.frames += 1
            else:
                ring.release(slot)
                self.dropped += 1
        if time.monotonic() - self._last_health >= HEALTH_EVERY_S:
            self.health()

    def cleanup(self) -> None:
        if self.ring is not None:
            # Not unlinked: frames still queued for the supervisor live in it; the supervisor
            # unlinks every ring of a decoder when it restarts or stops it.
            self.dropped += self.ring.dropped
            self.ring.close()
            self.ring = None


def _watch(stop_event: Any, dec: _Decoder) -> None:
    """Close the source on stop; keep health flowing while the source delivers no frames (a
    stream retrying its connection would otherwise report its counters only on state changes)."""
    source = dec.source
    while not stop_event.is_set() and not source.closed:
        time.sleep(0.1)
        if time.monotonic() - dec._last_health >= HEALTH_EVERY_S:
            dec.health()
    source.close()


def run_decoder(cam: CameraConfig | dict[str, Any], base_dir: str | Path | None,
                ring_spec: dict[str, Any], out_q: Any, stop_event: Any,
                log_level: int = logging.INFO) -> None:
    """Process entry: decode `cam` until `stop_event` is set or the source ends.

    `cam` is a CameraConfig or its `model_dump(mode="json")`; `stop_event` is a `StopFlag`
    (anything with is_set(); never a multiprocessing.Event, see StopFlag); `ring_spec` is
    `{"prefix": shm name prefix, "slots": ring size}`. Exit code 0 = source ended (files),
    2 = the source could not be opened, 1 = an error (the supervisor restarts 1 and 2).
    """
    logging.basicConfig(level=log_level, stream=sys.stderr,
                        format="%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s")
    # Ctrl-C reaches the whole process group; shutting down is the supervisor's decision.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cam = cam if isinstance(cam, CameraConfig) else CameraConfig.model_validate(cam)
    dec = _Decoder(cam, ring_spec, out_q)
    code = EXIT_ERROR
    try:
        dec.source = open_source(cam, Path(base_dir) if base_dir else None)
        dec.source.on_state = lambda _src, _state: dec.health()
        # A read can block up to read_timeout_s; the stop event closes the source meanwhile.
        threading.Thread(target=_watch, args=(stop_event, dec), daemon=True).start()
        dec.health()
        for frame in dec.source:
            dec.push(frame)
        state = dec.source.state
        code = EXIT_ENDED if state == "ended" or stop_event.is_set() else EXIT_UNAVAILABLE
        dec.health()
        dec.send("exit", {"state": state, "error": None})
    except Exception as exc:  # reported to the supervisor, which restarts us
        log.error("camera %s: decoder failed: %s", cam.id, exc)
        dec.send("exit", {"state": "lost", "error": "".join(traceback.format_exception_only(exc)).strip()})
        traceback.print_exc()
    finally:
        dec.cleanup()
        # Let the queue's feeder thread flush before the process ends.
        out_q.close()
        out_q.join_thread()
    sys.exit(code)
