"""Example config files are valid; errors name file, key and line; the CLI registers its commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli import register
from api.config import DispatchFile, RespondersFile, load_api_config
from rules.configfile import ConfigError, load_model

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_example_configs_are_valid():
    cfg = load_api_config(CONFIGS)
    by_id = {r.id: r for r in cfg.responders.responders}
    assert by_id["patrol-1"].tier == 2 and by_id["patrol-1"].speed_mps == 8.0
    assert {r.tier for r in by_id.values()} == {1, 2, 3}
    assert cfg.dispatch.policies["critical"].arrival_deadline_s == {1: 60, 2: 180, 3: 300}


def test_defaults_from_type():
    f = RespondersFile.model_validate({"responders": [
        {"id": "d", "name": "D", "type": "drone"}, {"id": "v", "name": "V", "type": "volunteer", "tier": 2}]})
    assert [(r.tier, r.speed_mps) for r in f.responders] == [(3, 12.0), (2, 1.4)]


def test_errors_name_file_key_and_line(tmp_path):
    bad = tmp_path / "responders.yaml"
    bad.write_text("responders:\n  - id: a\n    name: A\n    type: guard\n  - id: b\n    name: B\n    type: tank\n")
    with pytest.raises(ConfigError) as err:
        load_model(RespondersFile, bad)
    assert f"{bad}:7 responders[1].type" in str(err.value)
    dup = tmp_path / "dup.yaml"
    dup.write_text("responders:\n  - {id: a, name: A, type: guard}\n  - {id: a, name: B, type: guard}\n")
    with pytest.raises(ConfigError, match="duplicate responder id 'a'"):
        load_model(RespondersFile, dup)
    pol = tmp_path / "dispatch.yaml"
    pol.write_text("policies:\n  high:\n    tiers: [1, 2]\n    arrival_deadline_s: {1: 60}\n    surprise: 1\n")
    with pytest.raises(ConfigError) as err:
        load_model(DispatchFile, pol)
    assert f"{pol}:5 policies.high.surprise: Extra inputs are not permitted" in str(err.value)
    pol.write_text("policies:\n  high:\n    tiers: [1, 2]\n    arrival_deadline_s: {1: 60}\n")
    with pytest.raises(ConfigError, match=r"policies.high: arrival_deadline_s has no entry for tier\(s\) \[2\]"):
        load_model(DispatchFile, pol)


def test_cli_registers_commands():
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    out = runner.invoke(app, ["unit-sim", "--help"])
    assert out.exit_code == 0 and "--ack-after" in out.output and "--arrive-after" in out.output
    out = runner.invoke(app, ["api", "--help"])
    assert out.exit_code == 0 and "--bus-url" in out.output and "--config-dir" in out.output
