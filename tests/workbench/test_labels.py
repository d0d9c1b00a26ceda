"""Labels files: valid ones load; bad ones are refused with file, line and key."""

from __future__ import annotations

import pytest

from ingest.workbench.labels import load_labels
from rules.configfile import ConfigError

GOOD = """\
video: clip.mp4
events:
  - rule: midline
    kind: crossing
    direction: a_to_b
    window: [4.5, 6.0]
    at: 5.1
  - rule: lower-right
    kind: entry
    window: [3, 5]
    track: 1
"""

BAD = """\
events:
  - rule: midline
    kind: crossing
    window: [6.0, 4.5]
  - rule: lower-right
    kind: entry
    direction: a_to_b
    window: [3, 5]
  - rule: midline
    kind: crosing
    window: [1, 2]
  - rule: midline
    kind: crossing
    window: [1, 2]
    at: 7
    colour: red
"""


def test_good_file_loads(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text(GOOD)
    labels = load_labels(path)
    assert [e.rule for e in labels.events] == ["midline", "lower-right"]
    assert labels.events[0].reference == 5.1
    assert labels.events[1].reference == 4.0  # middle of the window when `at` is not given
    assert labels.events[1].track == 1


def test_bad_file_names_file_line_and_key(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as info:
        load_labels(path)
    found = {(i.line, i.key) for i in info.value.issues}
    assert all(i.file == str(path) for i in info.value.issues)
    assert (4, "events[0].window") in found  # reversed window
    assert (5, "events[1]") in found  # direction on an entry
    assert (10, "events[2].kind") in found  # unknown kind
    assert (16, "events[3].colour") in found  # unknown key
    messages = "\n".join(str(i) for i in info.value.issues)
    assert "start <= end" in messages and "only meaningful for kind 'crossing'" in messages
    assert f"{path}:4 events[0].window" in messages


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("events:\n  - rule: a\n    window: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        load_labels(path)
    assert info.value.issues[0].file == str(path) and info.value.issues[0].line is not None
