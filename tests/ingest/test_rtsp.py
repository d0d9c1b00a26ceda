"""RtspSource against a real GStreamer RTSP server on loopback: frames, loss, reconnection."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from ingest.config import CameraConfig
from ingest.sources import RtspSource, open_source
from tests.support.rtsp_server import RtspServer, free_port

pytestmark = pytest.mark.integration


class Puller:
    """Iterates a source on a thread (a live source blocks while it reconnects)."""

    def __init__(self, src):
        self.src = src
        self.frames = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for f in self.src:
                self.frames.append(f)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def wait_for(self, cond, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if cond():
                return time.monotonic() - start
            time.sleep(0.02)
        raise AssertionError(f"condition not met within {timeout} s (state {self.src.state})")

    def close(self):
        self.src.close()
        self.thread.join(15)
        assert not self.thread.is_alive(), "source did not stop after close()"
        assert self.error is None


def rtsp_cam(url: str, **kw) -> CameraConfig:
    return CameraConfig(id="door", url=url, analysis_fps=5, open_timeout_s=2, read_timeout_s=2, **kw)


def test_frames_arrive_from_rtsp_file_stream(rtsp_server):
    src = open_source(rtsp_cam(rtsp_server.url))
    assert isinstance(src, RtspSource)
    p = Puller(src)
    try:
        p.wait_for(lambda: len(p.frames) >= 5, 20)
        assert src.state == "live"
        f = p.frames[-1]
        assert f.image.shape == (480, 640, 3) and f.media_time is None
        assert abs(f.t - time.time()) < 10
        ts = [x.t for x in p.frames]
        assert all(b > a for a, b in zip(ts, ts[1:]))
    finally:
        p.close()


def test_frames_arrive_at_the_analysis_rate(rtsp_server):
    """PyAV samples on the stream's timestamps and skips what it does not keep: still 5 fps."""
    src = open_source(rtsp_cam(rtsp_server.url))
    p = Puller(src)
    try:
        p.wait_for(lambda: len(p.frames) >= 3, 20)
        n0, t0 = len(p.frames), time.monotonic()
        time.sleep(4)
        rate = (len(p.frames) - n0) / (time.monotonic() - t0)
        assert 4.0 <= rate <= 6.0, rate
        gaps = [b.t - a.t for a, b in zip(p.frames[n0:], p.frames[n0 + 1:])]
        assert max(gaps) < 0.6
    finally:
        p.close()


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
def test_server_death_marks_lost_and_return_reconnects(rtsp_server, caplog, decoder):
    caplog.set_level(logging.INFO, logger="ingest.sources")
    src = open_source(rtsp_cam(rtsp_server.url, decoder=decoder))
    p = Puller(src)
    try:
        p.wait_for(lambda: src.state == "live" and len(p.frames) >= 3, 20)
        rtsp_server.stop()
        lost_after = p.wait_for(lambda: src.state == "lost", 10)
        n = len(p.frames)
        rtsp_server.start()
        live_after = p.wait_for(lambda: src.state == "live" and len(p.frames) > n, 5)
        p.wait_for(lambda: len(p.frames) >= n + 3, 10)
        assert src.reconnects >= 1
        print(f"lost {lost_after:.2f} s after the kill, live {live_after:.2f} s after the restart")
        assert "door" in caplog.text and "lost" in caplog.text
    finally:
        p.close()


def test_unreachable_url_is_lost_logged_and_closable(caplog):
    caplog.set_level(logging.INFO, logger="ingest.sources")
    url = f"rtsp://admin:s3cret@127.0.0.1:{free_port()}/stream"
    src = open_source(CameraConfig(id="ghost", url=url, open_timeout_s=1, read_timeout_s=1))
    p = Puller(src)
    try:
        p.wait_for(lambda: src.state in ("lost", "connecting") and "ghost" in caplog.text, 10)
        time.sleep(1.5)  # a few retries: still alive, still not live
        assert src.state == "lost" and p.frames == [] and p.thread.is_alive()
        lines = [r.getMessage() for r in caplog.records if "ghost" in r.getMessage()]
        assert len(lines) == 1  # one line per state change, not one per retry
        assert "s3cret" not in caplog.text and "admin:***@" in lines[0]
    finally:
        p.close()


def test_live_pattern_stream():
    with RtspServer(pattern=True) as srv:
        p = Puller(open_source(rtsp_cam(srv.url)))
        try:
            p.wait_for(lambda: len(p.frames) >= 3, 20)
            assert p.frames[0].image.shape == (240, 320, 3)
        finally:
            p.close()
