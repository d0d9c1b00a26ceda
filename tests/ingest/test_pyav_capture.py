"""PyAV decoding: the grid sampler, skipping non-reference frames, and the same frames as a full
decode. Clips are made here with ffmpeg (libx264) from the synthetic scene."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from ingest.config import CameraConfig
from ingest.generated import write_generated_video
from ingest.pyav_capture import GridSampler, PyAVCapture
from ingest.sources import FileSource, open_source, uses_pyav


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """The same 4 s of 25 fps scene as H.264 with 2 B-frames per P (x264's default) and without."""
    folder = tmp_path_factory.mktemp("h264")
    raw = write_generated_video(folder / "raw.mp4", seconds=4, fps=25, width=320, height=240)
    out = {}
    for name, bframes in (("bframes", "2"), ("ipp", "0")):
        path = folder / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-c:v", "libx264", "-bf", bframes,
                        "-g", "50", "-pix_fmt", "yuv420p", str(path)], check=True)
        out[name] = path
    return out


def decode(path, sampler: GridSampler | None):
    """(frames grabbed, {media time: BGR image} of the frames `sampler` keeps, or of all)."""
    cap = PyAVCapture(str(path), wanted=sampler.due if sampler else None)
    assert cap.isOpened() and cap.fps == pytest.approx(25)
    grabbed, kept = 0, {}
    while cap.grab():
        grabbed += 1
        if sampler is None or sampler.keep(cap.frame_time):
            ok, image = cap.retrieve()
            assert ok
            kept[round(cap.frame_time, 3)] = image
    cap.release()
    return grabbed, kept


def test_grid_takes_every_nth_frame_of_a_steady_stream():
    grid = GridSampler(5, 25)
    assert [i for i in range(30) if grid.due(i / 25)] == [0, 5, 10, 15, 20, 25]
    grid = GridSampler(5, 29.97)
    assert sum(grid.due(i / 29.97) for i in range(2997)) == pytest.approx(500, abs=1)
    grid = GridSampler(10, 7)  # analysis faster than the source: every frame
    assert all(grid.due(i / 7) for i in range(70))


def test_grid_asks_the_same_question_twice_and_learns_an_unknown_rate():
    grid = GridSampler(5)
    due = [i for i in range(30) if grid.due(i / 25)]
    assert due == [0, 5, 10, 15, 20, 25]
    # The packet decision and the frame decision for one time agree.
    assert grid.due(1.0) and grid.keep(1.0) and not grid.due(1.04) and not grid.keep(1.04)


def test_grid_reanchors_when_time_goes_back():
    grid = GridSampler(5, 25)
    assert grid.due(10.0) and not grid.due(10.04)
    # A reconnect starts the stream's clock again: its first frame is analysed at once.
    assert grid.due(0.02)
    assert [i for i in range(1, 11) if grid.due(0.02 + i / 25)] == [5, 10]


def test_skips_non_reference_frames_and_keeps_the_same_frames(clips):
    all_grabbed, every = decode(clips["bframes"], None)
    grabbed, kept = decode(clips["bframes"], GridSampler(5, 25))
    assert all_grabbed == 100
    # 20 frames are analysed; of the 80 others, the B-frames were never decoded.
    assert len(kept) == 20 and grabbed < 0.8 * all_grabbed
    assert sorted(kept) == pytest.approx([i * 0.2 for i in range(20)])
    for t, image in kept.items():
        np.testing.assert_array_equal(image, every[t])


def test_without_b_frames_everything_is_decoded_and_kept_frames_match(clips):
    _, every = decode(clips["ipp"], None)
    grabbed, kept = decode(clips["ipp"], GridSampler(5, 25))
    assert grabbed == 100 and len(kept) == 20  # every frame is a reference: nothing to skip
    for t, image in kept.items():
        np.testing.assert_array_equal(image, every[t])


def test_file_source_gives_the_same_frames_with_either_decoder(clips):
    def frames(decoder):
        cam = CameraConfig(id="c", url=str(clips["bframes"]), realtime=False, analysis_fps=5, decoder=decoder)
        src = open_source(cam)
        assert isinstance(src, FileSource)
        return list(src)

    pyav, opencv = frames("pyav"), frames("opencv")
    assert len(pyav) == len(opencv) == 20
    np.testing.assert_allclose([f.media_time for f in pyav], [f.media_time for f in opencv], atol=1e-6)
    for a, b in zip(pyav, opencv):
        assert a.image.shape == b.image.shape
        # Both convert with swscale; allow for a different rounding path.
        assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() < 2


def test_file_loop_with_pyav_keeps_sampling_on_time(clips):
    cam = CameraConfig(id="c", url=str(clips["bframes"]), realtime=False, loop=True, analysis_fps=5)
    src = open_source(cam)
    frames = [next(src) for _ in range(50)]  # 2.5 passes of a 4 s file
    src.close()
    steps = np.diff([f.t for f in frames])
    assert np.all(steps > 0.15) and np.all(steps < 0.25)


def test_which_decoder_by_default():
    assert uses_pyav(CameraConfig(id="a", url="clip.mp4"))
    assert uses_pyav(CameraConfig(id="b", url="rtsp://cam.local/stream"))
    assert not uses_pyav(CameraConfig(id="c", url="http://cam.local/mjpeg"))
    assert not uses_pyav(CameraConfig(id="d", url="clip.mp4", decoder="opencv"))
    assert uses_pyav(CameraConfig(id="e", url="http://cam.local/mjpeg", decoder="pyav"))


def test_a_file_that_is_not_video_does_not_open(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    cap = PyAVCapture(str(bad))
    assert not cap.isOpened() and not cap.grab()
    src = open_source(CameraConfig(id="bad", url=str(bad), realtime=False))
    assert list(src) == [] and src.state == "lost"


def test_credentials_stay_out_of_the_log(caplog):
    import logging

    from tests.support.rtsp_server import free_port

    caplog.set_level(logging.DEBUG, logger="ingest")
    url = f"rtsp://admin:s3cret@127.0.0.1:{free_port()}/stream"
    cap = PyAVCapture(url, options={"rtsp_transport": "tcp"}, open_timeout_s=1, read_timeout_s=1)
    assert not cap.isOpened()
    assert "cannot open" in caplog.text and "127.0.0.1" in caplog.text
    assert "s3cret" not in caplog.text
