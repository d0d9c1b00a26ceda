"""HTTP MJPEG cameras (multipart/x-mixed-replace) through OpenCV/FFmpeg, against a real server."""

from __future__ import annotations

import logging
import time

import pytest

from detectors.marker import MarkerDetector
from ingest.config import CameraConfig
from ingest.health import RECONNECTS
from ingest.sources import RtspSource, open_source
from ingest.supervisor import WorkerSupervisor
from tests.ingest.stream_servers import MjpegServer
from tests.ingest.test_rtsp import Puller
from tests.ingest.test_supervisor import pull

pytestmark = pytest.mark.integration


def mjpeg_cam(url: str, cam_id: str = "lobby") -> CameraConfig:
    return CameraConfig(id=cam_id, url=url, analysis_fps=5, open_timeout_s=2, read_timeout_s=1)


def test_mjpeg_frames_loss_and_reconnect(caplog):
    caplog.set_level(logging.INFO, logger="ingest.sources")
    with MjpegServer(fps=10) as srv:
        src = open_source(mjpeg_cam(srv.url))
        assert isinstance(src, RtspSource)  # the same reconnecting source as RTSP
        p = Puller(src)
        try:
            p.wait_for(lambda: src.state == "live" and len(p.frames) >= 6, 15)
            f = p.frames[-1]
            assert f.image.shape == (240, 320, 3) and f.meta["source"] == "http" and f.media_time is None
            ts = [x.t for x in p.frames]
            assert all(b > a for a, b in zip(ts, ts[1:]))
            # Subsampled to the analysis rate (the server sends 10 parts/s).
            assert (ts[-1] - ts[0]) / (len(ts) - 1) == pytest.approx(0.2, abs=0.08)
            # The pixels survive JPEG: the scene's walkers are found by the marker detector.
            assert any(len(MarkerDetector().detect(x.image)) for x in p.frames)

            srv.stop()
            p.wait_for(lambda: src.state == "lost", 10)
            n = len(p.frames)
            time.sleep(1.0)  # a few failed reopen attempts while the port is closed
            assert src.state == "lost" and len(p.frames) == n and src.open_failures >= 1
            assert "refused" in src.reason

            srv.start()
            p.wait_for(lambda: src.state == "live" and len(p.frames) >= n + 3, 15)
            assert src.reconnects >= 1
        finally:
            p.close()
    lines = [r.getMessage() for r in caplog.records if "lobby" in r.getMessage()]
    assert any(": lost (" in m for m in lines) and any(m.endswith(": live") for m in lines)


@pytest.mark.e2e
def test_mjpeg_camera_health_through_server_restart():
    with MjpegServer(fps=10) as srv, WorkerSupervisor([mjpeg_cam(srv.url, "gate")]) as sup:
        before = RECONNECTS.labels(camera="gate")._value.get()
        assert len(pull(sup, 30, until=lambda fs: len(fs) >= 3)) >= 3
        assert sup.health()["gate"].state == "live"
        srv.stop()
        deadline = time.monotonic() + 10
        while sup.health()["gate"].state != "lost" and time.monotonic() < deadline:
            pull(sup, 0.2)
        h = sup.health()["gate"]
        assert h.state == "lost" and h.reason
        srv.start()
        assert len(pull(sup, 15, until=lambda fs: len(fs) >= 3)) >= 3
        h = sup.health()["gate"]
        assert h.state == "live" and h.reconnects >= 1 and h.restarts == 0 and h.fps_in > 0
        assert RECONNECTS.labels(camera="gate")._value.get() >= before + 1
