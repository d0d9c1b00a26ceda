"""WorkerSupervisor: decoder processes, shared-memory frames, restarts, health, clean-up."""

from __future__ import annotations

import glob
import multiprocessing as mp
import os
import signal
import time

import numpy as np
import pytest

from ingest.config import CameraConfig
from ingest.decoder import _Decoder
from ingest.frame import Frame
from ingest.health import FRAMES_IN, RESTARTS
from ingest.shm import FrameRing
from ingest.supervisor import WorkerSupervisor

pytestmark = pytest.mark.e2e


def pull(sup: WorkerSupervisor, seconds: float, until=None) -> list[Frame]:
    """Frames (copied) for up to `seconds`, or until `until(frames)` is true."""
    got: list[Frame] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for f in sup.frames(timeout=0.5, copy=False):
            got.append(f.copy())
            if time.monotonic() >= end or (until and until(got)):
                return got
    return got


def shm_names(sup: WorkerSupervisor) -> list[str]:
    return glob.glob(f"/dev/shm/lk{sup._id}-*")


def test_two_cameras_restart_after_sigkill(sample_video):
    cams = [CameraConfig(id="plaza", url=str(sample_video), loop=True, analysis_fps=5),
            CameraConfig(id="synth", url="generated://scene", analysis_fps=5),
            CameraConfig(id="off", url="generated://scene", enabled=False)]
    sup = WorkerSupervisor(cams)
    sup.start()
    try:
        first = pull(sup, 30, until=lambda fs: {"plaza", "synth"} <= {f.camera_id for f in fs[-20:]})
        assert {f.camera_id for f in first} == {"plaza", "synth"}
        assert shm_names(sup)
        f = next(f for f in first if f.camera_id == "plaza")
        assert f.image.ndim == 3 and f.image.dtype == np.uint8 and f.media_time is not None
        health = sup.health()
        assert set(health) == {"plaza", "synth"}
        assert health["synth"].state == "live" and health["synth"].frames > 0

        victim = sup.pid("plaza")
        restarts_metric = RESTARTS.labels(camera="plaza")._value.get()
        os.kill(victim, signal.SIGKILL)
        killed_at = time.time()
        after = pull(sup, 20, until=lambda fs: any(x.camera_id == "plaza" and x.t_wall > killed_at + 0.5
                                                   for x in fs[-5:]))
        resumed = [x for x in after if x.camera_id == "plaza" and x.t_wall > killed_at]
        assert resumed, "the killed camera never came back"
        h = sup.health()["plaza"]
        assert h.restarts == 1 and h.pid not in (None, victim) and h.state == "live"
        assert RESTARTS.labels(camera="plaza")._value.get() == restarts_metric + 1
        # Sequence numbers keep increasing across the restart.
        plaza_seq = [x.seq for x in first + after if x.camera_id == "plaza"]
        assert plaza_seq == sorted(plaza_seq) and len(set(plaza_seq)) == len(plaza_seq)
        # The other camera never stopped: no gap in its frames while plaza restarted.
        synth_t = [x.t_wall for x in first + after if x.camera_id == "synth"]
        assert max(np.diff(synth_t)) < 3.0
        assert sup.health()["synth"].restarts == 0
        assert FRAMES_IN.labels(camera="synth")._value.get() >= len(synth_t)
    finally:
        sup.stop()
    assert shm_names(sup) == []
    assert sup.pid("plaza") is None and sup.pid("synth") is None


def test_file_end_is_not_a_crash_and_slow_consumer_drops(short_mp4):
    cams = [CameraConfig(id="once", url=short_mp4.name, realtime=False, analysis_fps=5),
            CameraConfig(id="fast", url="generated://scene", realtime=False, analysis_fps=10)]
    sup = WorkerSupervisor(cams, base_dir=short_mp4.parent, ring_slots=4)
    with sup:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            h = sup.health()
            if h["once"].state == "ended" and h["fast"].dropped > 0:
                break
            time.sleep(0.2)
        # Nobody consumed: the fast scene filled its 4 slots and every later frame was dropped.
        h = sup.health()
        assert h["once"].state == "ended" and h["once"].restarts == 0 and h["once"].pid is None
        assert h["fast"].dropped > 0 and h["fast"].state == "live"
        once = [f.t for f in pull(sup, 10, until=lambda fs: sum(x.camera_id == "once" for x in fs) >= 4)
                if f.camera_id == "once"]
        assert len(once) == 4 and once == sorted(once)  # the ring held the first 4 frames
    assert shm_names(sup) == []


def test_decoder_moves_to_a_new_ring_when_the_frame_size_changes():
    q = mp.get_context("spawn").Queue()
    dec = _Decoder(CameraConfig(id="zoom", url="generated://scene"), {"prefix": f"lktest{os.getpid()}", "slots": 2}, q)
    rings = []
    try:
        for shape in [(48, 64, 3), (48, 64, 3), (96, 128, 3)]:
            dec.push(Frame("zoom", 1, 0.0, time.time(), None, np.full(shape, 7, np.uint8)))
        msgs = [q.get(timeout=5) for _ in range(6)]
        kinds = [k for k, _ in msgs if k != "health"]
        assert kinds == ["ring", "frame", "frame", "ring", "frame"]
        specs = [p for k, p in msgs if k == "ring"]
        assert [tuple(s["shape"]) for s in specs] == [(48, 64, 3), (96, 128, 3)]
        last = [p for k, p in msgs if k == "frame"][-1]
        rings = [FrameRing(s["name"], s["slots"], tuple(s["shape"]), create=False) for s in specs]
        assert last["ring"] == rings[1].name and rings[1].get(last["slot"]).mean() == 7
    finally:
        dec.cleanup()
        for r in rings:
            r.unlink()
            r.close()


@pytest.mark.integration
def test_rtsp_camera_health_through_server_restart(rtsp_server):
    cam = CameraConfig(id="door", url=rtsp_server.url, analysis_fps=5, open_timeout_s=2, read_timeout_s=2)
    with WorkerSupervisor([cam]) as sup:
        assert pull(sup, 30, until=lambda fs: len(fs) >= 3)
        rtsp_server.stop()
        deadline = time.monotonic() + 10
        while sup.health()["door"].state != "lost" and time.monotonic() < deadline:
            pull(sup, 0.2)
        assert sup.health()["door"].state == "lost"
        rtsp_server.start()
        back = pull(sup, 10, until=lambda fs: len(fs) >= 3)
        assert len(back) >= 3
        h = sup.health()["door"]
        assert h.state == "live" and h.reconnects >= 1 and h.restarts == 0 and h.fps_in > 0
