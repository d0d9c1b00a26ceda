"""cameras.yaml validation: errors name file, key path and line."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from ingest.config import CameraConfig, CamerasFile, redact_url
from rules.configfile import ConfigError, load_model

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
detector:
  kind: hog
cameras:
  - id: gate
    name: Main gate
    url: rtsp://admin:hunter2@10.0.0.5/stream1
    location: {lat: 31.2, lon: 121.4}
  - id: plaza
    url: videos/plaza.mp4
    loop: true
    realtime: false
    detector: {kind: fake}
  - id: synth
    url: generated://scene?fps=15
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(text)
    return path


def test_valid_file_loads_with_defaults_and_overrides(tmp_path):
    cfg = load_model(CamerasFile, write(tmp_path, GOOD))
    gate, plaza, synth = cfg.cameras
    assert gate.analysis_fps == 5 and gate.rtsp_transport == "tcp" and gate.source_kind == "rtsp"
    assert cfg.detector_for(gate).kind == "hog" and cfg.detector_for(plaza).kind == "fake"
    assert plaza.resolve_path(tmp_path) == tmp_path / "videos/plaza.mp4"
    assert synth.source_kind == "generated"
    assert cfg.motion_for(gate) == cfg.motion


def test_duplicate_camera_id_names_the_id_and_the_key(tmp_path):
    text = GOOD + "  - id: gate\n    url: rtsp://10.0.0.6/stream\n"
    with pytest.raises(ConfigError) as err:
        load_model(CamerasFile, write(tmp_path, text))
    (issue,) = err.value.issues
    assert "duplicate camera id 'gate'" in issue.message
    assert issue.key == "cameras" and issue.line == 3
    assert str(issue).startswith(f"{tmp_path / 'cameras.yaml'}:3 cameras:")


def test_bad_fps_names_key_path_and_line(tmp_path):
    text = GOOD.replace("    loop: true\n", "    loop: true\n    analysis_fps: 0\n")
    with pytest.raises(ConfigError) as err:
        load_model(CamerasFile, write(tmp_path, text))
    (issue,) = err.value.issues
    assert issue.key == "cameras[1].analysis_fps"
    assert issue.line == 11
    assert "greater than 0" in issue.message


@pytest.mark.parametrize(("snippet", "key"), [
    ("    colour: red\n", "cameras[0].colour"),  # extra="forbid"
    ("    rtsp_transport: http\n", "cameras[0].rtsp_transport"),
    ("    id: Bad Id\n", "cameras[0].id"),
])
def test_bad_camera_fields_are_named(tmp_path, snippet, key):
    text = GOOD.replace("    name: Main gate\n", "    name: Main gate\n" + snippet)
    if "id: Bad Id" in snippet:
        text = text.replace("  - id: gate\n", "  -\n", 1)
    with pytest.raises(ConfigError) as err:
        load_model(CamerasFile, write(tmp_path, text))
    assert key in [i.key for i in err.value.issues]


@pytest.mark.parametrize("url", ["ftp://x/y.mp4", "generated://other", "rtsp:///nohost"])
def test_bad_urls_are_rejected(url):
    with pytest.raises(ValueError):
        CameraConfig(id="x", url=url)


def test_redact_url_hides_passwords_and_tokens():
    assert redact_url("rtsp://admin:hunter2@10.0.0.5:554/s") == "rtsp://admin:***@10.0.0.5:554/s"
    assert "abc" not in redact_url("http://cam/video.mjpg?user=u&password=abc")
    assert redact_url("videos/plaza.mp4") == "videos/plaza.mp4"
    assert redact_url("generated://scene?fps=10") == "generated://scene?fps=10"


def test_entry_point_and_example_config():
    (ep,) = [e for e in entry_points(group="lookout.config_files") if e.name == "cameras.yaml"]
    assert ep.load() is CamerasFile
    cfg = load_model(CamerasFile, REPO / "configs" / "cameras.yaml")
    assert cfg.cameras
