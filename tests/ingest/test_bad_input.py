"""Bad input never stops a worker: garbage on an RTSP port, 0-byte MJPEG parts, empty images.

Each case is logged with the camera id and a reason, counted in health and metrics, and the
other cameras keep running.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time

import numpy as np
import pytest

from ingest.config import CameraConfig
from ingest.decoder import _Decoder
from ingest.frame import Frame
from ingest.health import FRAMES_INVALID, OPEN_FAILURES
from ingest.shm import FrameRing
from ingest.sources import open_source
from ingest.supervisor import WorkerSupervisor
from tests.ingest.stream_servers import GarbageServer, MjpegServer
from tests.ingest.test_rtsp import Puller
from tests.ingest.test_supervisor import pull

pytestmark = pytest.mark.integration


def cam(cam_id: str, url: str) -> CameraConfig:
    return CameraConfig(id=cam_id, url=url, analysis_fps=5, open_timeout_s=1, read_timeout_s=1)


@pytest.mark.parametrize("hold", [False, True], ids=["closes", "holds"])
def test_rtsp_port_answering_garbage_is_lost_with_a_reason(caplog, hold):
    caplog.set_level(logging.INFO, logger="ingest.sources")
    with GarbageServer(hold=hold) as srv:
        src = open_source(cam("junk", srv.url()))
        p = Puller(src)
        try:
            p.wait_for(lambda: src.open_failures >= 2, 15)  # retried with backoff, never live
            assert src.state == "lost" and p.frames == [] and p.thread.is_alive()
            assert srv.connections >= 2
            assert "accepts connections but sent no playable rtsp stream" in src.reason
        finally:
            p.close()
    lines = [r.getMessage() for r in caplog.records if "junk" in r.getMessage()]
    assert len(lines) == 1 and "lost (cannot open stream" in lines[0] and "no playable rtsp" in lines[0]


@pytest.mark.e2e
def test_garbage_camera_is_counted_while_the_others_keep_running():
    with GarbageServer() as srv:
        cams = [cam("junk2", srv.url()), cam("yard", "generated://scene")]
        failures = OPEN_FAILURES.labels(camera="junk2")._value.get()
        with WorkerSupervisor(cams) as sup:
            frames = pull(sup, 30, until=lambda fs: sum(f.camera_id == "yard" for f in fs) >= 15
                          and sup.health()["junk2"].open_failures >= 3)
            h = sup.health()
            assert h["junk2"].state == "lost" and h["junk2"].open_failures >= 3 and h["junk2"].frames == 0
            assert "no playable rtsp stream" in h["junk2"].reason
            # The decoder process is not the one failing: it stays up and keeps retrying.
            assert h["junk2"].restarts == 0 and sup.pid("junk2") is not None
            assert OPEN_FAILURES.labels(camera="junk2")._value.get() >= failures + 3
            yard = [f.t for f in frames if f.camera_id == "yard"]
            assert h["yard"].state == "live" and len(yard) >= 15 and max(np.diff(yard)) < 1.0


def test_mjpeg_camera_sending_only_empty_parts_is_lost_not_crashed(caplog):
    caplog.set_level(logging.INFO, logger="ingest.sources")
    with MjpegServer(zero_length=True) as srv:
        src = open_source(cam("blank", srv.url))
        p = Puller(src)
        try:
            p.wait_for(lambda: src.open_failures >= 2, 20)
            assert src.state == "lost" and p.frames == [] and srv.parts_sent > 0
            assert "no playable http stream" in src.reason
        finally:
            p.close()
    assert any("blank" in r.getMessage() and "lost" in r.getMessage() for r in caplog.records)


def test_mjpeg_camera_whose_parts_turn_empty_reconnects(caplog):
    """Good parts, then 0-byte ones: FFmpeg skips the empty parts, so the stream reads as "no
    frame within the read timeout", is dropped and reopened (and works again for a while)."""
    caplog.set_level(logging.INFO, logger="ingest.sources")
    with MjpegServer(fps=10, zero_after=10) as srv:
        src = open_source(cam("flaky", srv.url))
        p = Puller(src)
        try:
            p.wait_for(lambda: src.reconnects >= 2 and len(p.frames) >= 4, 30)
            assert srv.requests >= 2  # each reconnect is a new HTTP request
        finally:
            p.close()
    assert any("flaky" in r.getMessage() and "no frame within 1 s" in r.getMessage() for r in caplog.records)


def test_empty_and_malformed_images_are_refused_and_counted(caplog):
    caplog.set_level(logging.INFO, logger="ingest.decoder")
    q = mp.get_context("spawn").Queue()
    camera = CameraConfig(id="nullcam", url="generated://scene")
    dec = _Decoder(camera, {"prefix": f"lktest{os.getpid()}bad", "slots": 2}, q)
    bad = [np.empty((0, 0, 3), np.uint8), np.zeros((0, 640, 3), np.uint8), None,
           np.zeros((48, 64), np.uint8), np.zeros((48, 64, 3), np.float32)]
    rings = []
    try:
        for image in bad:
            dec.push(Frame("nullcam", 1, 0.0, time.time(), None, image))
        assert dec.invalid == len(bad) and dec.ring is None  # nothing reached shared memory
        dec.push(Frame("nullcam", 2, 0.2, time.time(), None, np.full((48, 64, 3), 9, np.uint8)))
        dec.health()
        msgs = []
        while not msgs or msgs[-1][0] != "health" or msgs[-1][1]["frames"] != 1:
            msgs.append(q.get(timeout=5))
        assert [k for k, _ in msgs if k != "health"] == ["ring", "frame"]  # only the good frame
        health = msgs[-1][1]
        assert health["invalid"] == len(bad) and health["frames"] == 1 and health["dropped"] == 0
        rings = [FrameRing(p["name"], p["slots"], tuple(p["shape"]), create=False) for k, p in msgs if k == "ring"]
    finally:
        dec.cleanup()
        for r in rings:
            r.unlink()
            r.close()
    logged = [r.getMessage() for r in caplog.records if "nullcam" in r.getMessage()]
    assert logged and "invalid frame refused (empty image (0, 0, 3))" in logged[0]

    # What the supervisor makes of such a health message: StreamHealth and the metric.
    sup = WorkerSupervisor([camera])
    w = sup._workers["nullcam"]
    before = FRAMES_INVALID.labels(camera="nullcam")._value.get()
    sup._handle(w, w.gen, "health", health)
    assert sup.health()["nullcam"].invalid == len(bad)
    assert FRAMES_INVALID.labels(camera="nullcam")._value.get() == before + len(bad)
