"""Fixtures: a running ONVIF simulator (checked against the WSDL on every reply) and a client on it."""

from __future__ import annotations

import pytest

from ingest.onvif.client import OnvifCamera
from tests.support.onvif_sim import OnvifSimulator

PASSWORD = "s3cr3t-P@ss/word"  # has characters that must be percent-encoded inside a URL
RTSP_URL = "rtsp://127.0.0.1:8554/live"


@pytest.fixture
def sim():
    with OnvifSimulator(rtsp_url=RTSP_URL, user="operator", password=PASSWORD) as s:
        yield s
    assert s.invalid_replies == [], "the simulator sent replies that do not match the WSDL"


@pytest.fixture
def camera(sim) -> OnvifCamera:
    return OnvifCamera(sim.host, sim.port, "operator", PASSWORD, camera_id="gate-cam", timeout_s=5)
