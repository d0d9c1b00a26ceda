"""configs/sensors.yaml is valid and documented; mistakes name the file, line and key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.sensors.config import SensorsFile, load_sensors
from rules.configfile import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_example_file_is_valid_and_has_every_rule_kind():
    cfg = load_sensors(ROOT / "configs" / "sensors.yaml")
    assert {r.kind for r in cfg.rules} == {"sensor_alarm", "video_confirmed"}
    assert {s.kind for s in cfg.sensors} >= {"fence_vibration", "door_contact", "panic_button"}


def test_config_check_validates_sensors_yaml(tmp_path):
    cfg = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", cfg)
    text = (cfg / "sensors.yaml").read_text().replace("window_s: 10", "window_s: -3")
    (cfg / "sensors.yaml").write_text(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "window_s: -3" in ln)
    proc = subprocess.run([sys.executable, "-m", "ingest.cli", "config", "check", str(cfg)], cwd=ROOT,
                          capture_output=True, text=True, env=os.environ | {"COLUMNS": "400"})
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert f"sensors.yaml:{line} rules[2].window_s" in out


@pytest.mark.parametrize("yaml_text, key, message", [
    ("sensors:\n  - {id: a, kind: smoke}\n  - {id: a, kind: smoke}\n", "sensors", "duplicate sensor id"),
    ("rules:\n  - {id: r, kind: sensor_alarm, sensors: [ghost]}\n", "", "unknown sensor"),
    ("rules:\n  - {id: r, kind: sensor_alarm, allowed: [{start: '25:00', end: '06:00'}]}\n", "rules[0].allowed[0].start", ""),
    ("webhook: {token: secret}\n", "webhook.token", "Extra inputs"),
])
def test_mistakes_are_named(tmp_path, yaml_text, key, message):
    path = tmp_path / "sensors.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_sensors(path)
    issue = err.value.issues[0]
    assert issue.file == str(path) and issue.line is not None
    assert key in issue.key and message in issue.message


def test_schema_has_descriptions_for_the_console():
    schema = SensorsFile.model_json_schema()
    assert "description" in schema["$defs"]["VideoConfirmedSpec"]["properties"]["window_s"]
