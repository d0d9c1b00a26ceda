"""`lookout config check`: the example site is valid; bad files name file, line and key."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lookout(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ingest.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_example_site_is_valid():
    proc = lookout("config", "check", "configs")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_files_are_reported_with_file_line_and_key(tmp_path):
    cfg = tmp_path / "cfg"
    shutil.copytree(ROOT / "configs", cfg)
    rules = (cfg / "rules.yaml").read_text()
    rules = rules.replace("direction: both", "direction: sideways")
    (cfg / "rules.yaml").write_text(rules)
    cams = re.sub(r"analysis_fps: [0-9.]+", "analysis_fps: -5", (cfg / "cameras.yaml").read_text())
    (cfg / "cameras.yaml").write_text(cams)
    proc = lookout("config", "check", str(cfg))
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1
    direction_line = next(i for i, l in enumerate(rules.splitlines(), 1) if "sideways" in l)
    assert f"rules.yaml:{direction_line}" in out and "direction" in out
    fps_line = next(i for i, l in enumerate(cams.splitlines(), 1) if "analysis_fps" in l)
    assert f"cameras.yaml:{fps_line}" in out and "analysis_fps" in out


def test_rules_for_unknown_camera_are_refused(tmp_path):
    cfg = tmp_path / "cfg"
    shutil.copytree(ROOT / "configs", cfg)
    with (cfg / "rules.yaml").open("a") as f:
        f.write("  nowhere:\n    rules: []\n")
    proc = lookout("config", "check", str(cfg))
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1
    assert "unknown camera 'nowhere'" in out and "rules.yaml:" in out


def test_yaml_syntax_error_names_the_line(tmp_path):
    cfg = tmp_path / "cfg"
    shutil.copytree(ROOT / "configs", cfg)
    (cfg / "site.yaml").write_text("site:\n  id: x\n  name: [unclosed\n")
    proc = lookout("config", "check", str(cfg))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "site.yaml:" in out and "YAML syntax" in out
