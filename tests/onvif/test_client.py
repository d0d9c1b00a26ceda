"""OnvifCamera against the simulator: device information, profiles, stream/snapshot URIs, config hook."""

from __future__ import annotations

import logging
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import pytest
from pydantic import ValidationError

from ingest.config import CamerasFile, CameraConfig
from ingest.onvif.client import OnvifError, resolve_stream_url, with_onvif_stream
from tests.onvif.conftest import PASSWORD, RTSP_URL
from tests.support.rtsp_server import free_port


def test_device_information_and_profiles(camera):
    info = camera.device_info()
    assert (info.manufacturer, info.model, info.serial) == ("Lookout", "OnvifSim", "SIM0001")
    profiles = camera.profiles()
    assert [(p.token, p.name, p.width, p.height, p.encoding) for p in profiles] == [
        ("profile_main", "MainStream", 1920, 1080, "H264"), ("profile_sub", "SubStream", 640, 360, "H264")]


def test_stream_and_snapshot_uri_by_default_token_and_name(camera, sim):
    assert camera.stream_uri() == RTSP_URL  # first profile
    assert camera.stream_uri("profile_sub") == RTSP_URL + "_sub"
    assert camera.stream_uri("SubStream") == RTSP_URL + "_sub"
    sim.profiles[1].snapshot_uri = "http://127.0.0.1/sub.jpg"
    assert camera.snapshot_uri("SubStream") == "http://127.0.0.1/sub.jpg"


def test_unknown_profile_names_the_ones_the_camera_has(camera):
    with pytest.raises(OnvifError) as err:
        camera.stream_uri("no-such-profile")
    assert err.value.reason == "no_profile" and "profile_main (MainStream)" in str(err.value)


def _cam(sim, **onvif) -> CameraConfig:
    block = {"host": sim.host, "port": sim.port, "user": "operator", "password": PASSWORD, **onvif}
    return CameraConfig(id="gate-cam", url="rtsp://10.0.0.9/fallback", onvif=block)


def test_camera_config_resolves_its_rtsp_url_through_get_stream_uri(sim, caplog):
    caplog.set_level(logging.DEBUG)
    cam = _cam(sim, profile="SubStream")
    url = resolve_stream_url(cam)
    parts = urlsplit(url)
    assert (parts.hostname, parts.port, parts.path) == ("127.0.0.1", 8554, "/live_sub")
    assert unquote(parts.username) == "operator" and unquote(parts.password) == PASSWORD
    assert with_onvif_stream(cam).url == url and cam.url == "rtsp://10.0.0.9/fallback"
    assert "GetStreamUri" in sim.calls
    assert "operator:***@127.0.0.1:8554/live_sub" in caplog.text
    assert PASSWORD not in caplog.text and "P%40ss" not in caplog.text


def test_rtsp_credentials_can_be_left_out(sim):
    assert resolve_stream_url(_cam(sim, rtsp_credentials=False)) == RTSP_URL


def test_unreachable_camera_falls_back_to_the_configured_url(caplog):
    cam = CameraConfig(id="gone-cam", url="rtsp://u:pw@10.0.0.9/fallback",
                       onvif={"host": "127.0.0.1", "port": free_port(), "password": PASSWORD, "request_timeout_s": 2})
    assert resolve_stream_url(cam) == cam.url
    assert "gone-cam" in caplog.text and "unreachable" in caplog.text
    assert PASSWORD not in caplog.text and "u:pw@" not in caplog.text


def test_cameras_file_accepts_an_onvif_block_and_hides_the_password():
    cams = CamerasFile.model_validate({"cameras": [{
        "id": "gate-cam", "url": "rtsp://127.0.0.1/fallback",
        "onvif": {"host": "192.0.2.10", "port": 8080, "user": "admin", "password": PASSWORD, "profile": "SubStream"},
    }]})
    cfg = cams.cameras[0].onvif
    assert cfg.port == 8080 and cfg.password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(cams) and PASSWORD not in cams.model_dump_json()
    with pytest.raises(ValidationError, match="passwrd"):
        CameraConfig(id="c", url="rtsp://h/x", onvif={"host": "h", "passwrd": "x"})


def test_malformed_stream_uri_reply_falls_back_and_is_logged(sim, caplog):
    sim.malformed["GetStreamUri"] = 1
    cam = _cam(sim)
    assert resolve_stream_url(cam) == cam.url
    assert "camera gate-cam: ONVIF stream URI unavailable (malformed)" in caplog.text
    assert resolve_stream_url(cam).endswith("@127.0.0.1:8554/live")  # the camera answers again


def test_importing_onvif_zeep_leaves_the_process_logging_alone():
    code = ("import logging\nfrom ingest.onvif.client import onvif_module\nonvif_module()\n"
            "root = logging.getLogger()\nassert not root.handlers and root.level == logging.WARNING, root.handlers\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
