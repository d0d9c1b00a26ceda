"""Fixtures for the ingest tests: sample videos and a real RTSP server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.generated import write_generated_video
from tests.support.rtsp_server import RtspServer

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@pytest.fixture(scope="session")
def generated_mp4(tmp_path_factory) -> Path:
    """60 s of the synthetic scene as H.264 MP4 (longer than any test plays it over RTSP)."""
    return write_generated_video(tmp_path_factory.mktemp("video") / "scene.mp4", seconds=60, fps=10)


@pytest.fixture(scope="session")
def short_mp4(tmp_path_factory) -> Path:
    """3 s of the synthetic scene, for loop tests."""
    return write_generated_video(tmp_path_factory.mktemp("video") / "short.mp4", seconds=3, fps=10)


@pytest.fixture(scope="session")
def sample_video(generated_mp4) -> Path:
    """vtest.avi (PETS09-S2L1, Debian's opencv-doc) or the generated scene where it is absent."""
    return VTEST if VTEST.exists() else generated_mp4


@pytest.fixture
def rtsp_server(generated_mp4):
    with RtspServer(file=generated_mp4) as srv:
        yield srv
