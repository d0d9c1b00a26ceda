"""A short deterministic scene (generated walkers + the marker detector) and a site for it.

In the first 8 s of `ingest.generated`'s scene, walker 0 crosses x = 0.5 left to right (~3.3 s)
and walker 1 enters the lower-right quarter from the right (2.5 s) and crosses x = 0.5 right to
left (~5.1 s). The rules below therefore fire: midline b_to_a ≈ 3.4 s, lower-right ≈ 3.8 s,
midline a_to_b ≈ 5.2 s (analysis at 5 fps).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.generated import write_generated_video

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
cameras:
  yard:
    rules:
      - id: midline
        kind: tripwire
        # top to bottom: side A is east, so a_to_b is walking right to left (docs/rules.md)
        line: [[0.5, 0.05], [0.5, 0.95]]
      - id: lower-right
        kind: zone_intrusion
        polygon: [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]
"""

# The zone removed and the line moved to x = 0.2: walkers cross it at other times.
RULES_MOVED = """\
cameras:
  yard:
    rules:
      - id: midline
        kind: tripwire
        line: [[0.2, 0.05], [0.2, 0.95]]
"""


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    return write_generated_video(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=8, fps=10)


@pytest.fixture(scope="session")
def site(tmp_path_factory, clip) -> Path:
    cfg = tmp_path_factory.mktemp("site") / "configs"
    cfg.mkdir()
    shutil.copy(ROOT / "configs" / "site.yaml", cfg / "site.yaml")
    (cfg / "cameras.yaml").write_text(
        "detector: {kind: fake}\n"
        "cameras:\n"
        "  - id: yard\n"
        f"    url: {clip}\n"
        "    analysis_fps: 5\n"
    )
    (cfg / "rules.yaml").write_text(RULES)
    (cfg / "rules-moved.yaml").write_text(RULES_MOVED)
    return cfg
