"""A geofence on a camera that cannot place tracks on the ground is refused at load and on hot
reload, with the rule's file, line and key (it would otherwise never fire)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ingest.rules_reload import RulesWatcher
from ingest.siteconfig import ground_cameras, load_worker_config
from rules.configfile import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GEOFENCE = {"id": "depot", "kind": "geofence", "trigger": "enter", "severity": "high",
            "polygons": [[[31.2305, 121.4734], [31.2305, 121.4740], [31.2301, 121.4740], [31.2301, 121.4734]]]}


def _config(tmp_path: Path, calibrated: bool) -> Path:
    cfg = tmp_path / "cfg"
    shutil.copytree(ROOT / "configs", cfg)
    rules = yaml.safe_load((cfg / "rules.yaml").read_text())
    rules["cameras"]["plaza"]["rules"].append(GEOFENCE)
    (cfg / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    if calibrated:
        cams = yaml.safe_load((cfg / "cameras.yaml").read_text())
        cam = next(c for c in cams["cameras"] if c["id"] == "plaza")
        cam["calibration"] = {"points": [
            {"image": [0, 576], "lat": 31.2300, "lon": 121.4730}, {"image": [768, 576], "lat": 31.2300, "lon": 121.4745},
            {"image": [768, 200], "lat": 31.2310, "lon": 121.4745}, {"image": [0, 200], "lat": 31.2310, "lon": 121.4730}]}
        (cfg / "cameras.yaml").write_text(yaml.safe_dump(cams, sort_keys=False))
    return cfg


def test_geofence_on_an_uncalibrated_camera_is_refused_with_file_and_line(tmp_path):
    cfg = _config(tmp_path, calibrated=False)
    with pytest.raises(ConfigError) as err:
        load_worker_config(cfg)
    text = str(err.value)
    assert "rules.yaml" in text and "cameras.plaza.rules[2]" in text and "needs ground positions" in text
    assert any(i.line for i in err.value.issues)  # points at the rule's line


def test_geofence_on_a_calibrated_camera_loads(tmp_path):
    cfg = load_worker_config(_config(tmp_path, calibrated=True))
    assert "plaza" in ground_cameras(cfg.cameras)


def test_hot_reload_refuses_it_and_keeps_the_last_good_rules(tmp_path):
    cfg_dir = tmp_path / "live"
    shutil.copytree(ROOT / "configs", cfg_dir)
    watcher = RulesWatcher(cfg_dir / "rules.yaml", {"plaza"}, ground_cameras=set())
    bad = _config(tmp_path, calibrated=False) / "rules.yaml"
    shutil.copy(bad, cfg_dir / "rules.yaml")
    import os
    os.utime(cfg_dir / "rules.yaml", ns=(1, 10**18))  # a new modification time for the watcher
    assert watcher.poll() is None and watcher.rejected == 1
