"""Clip encoding: H.264 MP4 through PyAV that OpenCV reads back and headless Chromium plays;
the OpenCV fallback writes an MP4 too."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from alerts.evidence.clip import ClipFrame, ClipSpec, _write_opencv, write_clip

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _frames(n: int = 30, fps: float = 10.0, size=(321, 241)) -> list[ClipFrame]:
    out = []
    for i in range(n):
        img = np.full((size[1], size[0], 3), 40, np.uint8)
        x = 10 + 5 * i
        ok, jpg = cv2.imencode(".jpg", img)
        out.append(ClipFrame(t=100.0 + i / fps, jpeg=jpg.tobytes(), scale=0.5,
                             boxes=np.array([[x, 50, x + 30, 150]], np.float32), track_ids=np.array([3]),
                             class_ids=np.array([0]), confidences=np.array([0.9], np.float32)))
    return out


SPEC = ClipSpec(title="cam-1 | yard (intrusion)", t_alert=101.0, track_ids=frozenset({3}),
                shapes=[("yard", np.array([[0, 0], [400, 0], [400, 300]]), True)])


def test_h264_clip_with_true_timing(tmp_path):
    path = tmp_path / "c.mp4"
    assert write_clip(_frames(30), SPEC, path) == 30
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.profile == "Main"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.width % 2 == 0 and stream.height % 2 == 0  # odd input padded for yuv420p
        duration = float(stream.duration * stream.time_base)
    assert duration == pytest.approx(3.0, abs=0.15)  # 30 frames at 10 fps: the real pace
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 30


def test_opencv_fallback_writes_a_readable_mp4(tmp_path):
    images = [np.full((240, 320, 3), i * 8, np.uint8) for i in range(20)]
    codec = _write_opencv(images, [i / 10 for i in range(20)], tmp_path / "f.mp4")
    assert codec in ("avc1", "vp09", "mp4v")
    cap = cv2.VideoCapture(str(tmp_path / "f.mp4"))
    assert cap.isOpened() and cap.read()[0]


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_chromium_plays_the_clip(tmp_path):
    from playwright.sync_api import sync_playwright

    write_clip(_frames(30), SPEC, tmp_path / "clip.mp4")
    page_file = tmp_path / "v.html"
    page_file.write_text('<video id="v" src="clip.mp4" muted></video>')
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            got = page.evaluate("""() => new Promise(done => {
                const v = document.getElementById("v");
                const report = () => done({w: v.videoWidth, d: v.duration, err: v.error && v.error.code});
                v.addEventListener("loadeddata", report); v.addEventListener("error", report); v.load(); })""")
        finally:
            browser.close()
    assert got["err"] is None and got["w"] > 0 and got["d"] == pytest.approx(3.0, abs=0.2)
