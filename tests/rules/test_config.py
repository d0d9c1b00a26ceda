import textwrap

import pytest

from rules.config import RulesFile, TripwireSpec, ZoneIntrusionSpec
from rules.configfile import ConfigError, load_model

GOOD = """\
cameras:
  gate:
    rules:
      - id: yard
        kind: zone_intrusion
        polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.3, 0.2], [0.1, 0.5]]
      - id: fence
        name: North fence
        kind: tripwire
        line: [[0.1, 0.9], [0.5, 0.8], [0.9, 0.9]]
        direction: a_to_b
        classes: [person, car]
"""


def write(tmp_path, text):
    p = tmp_path / "rules.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_good_file_and_defaults(tmp_path):
    rf = load_model(RulesFile, write(tmp_path, GOOD))
    yard, fence = rf.cameras["gate"].rules
    assert isinstance(yard, ZoneIntrusionSpec) and isinstance(fence, TripwireSpec)
    assert (yard.enabled, yard.version, yard.severity) == (True, 1, "high")
    assert yard.classes == ["person"]
    assert (yard.min_confidence, yard.cooldown_s, yard.anchor, yard.forget_after_s) == (
        0.3, 30, "bottom_center", 10)
    assert fence.direction == "a_to_b" and fence.min_offset_px == 3.0
    assert fence.display_name == "North fence" and yard.display_name == "yard"


def test_example_site_file_is_valid():
    from pathlib import Path

    path = Path(__file__).parents[2] / "configs" / "rules.yaml"
    assert path.exists(), "configs/rules.yaml is the documented example site"
    load_model(RulesFile, path)


def issue_of(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_model(RulesFile, path)
    issues = exc.value.issues
    assert all(i.file == str(path) for i in issues)
    return issues[0], str(exc.value)


def test_self_intersecting_polygon(tmp_path):
    issue, text = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - id: bowtie
                kind: zone_intrusion
                polygon: [[0, 0], [1, 1], [1, 0], [0, 1]]
        """)
    assert issue.key == "cameras.gate.rules[0].polygon" and issue.line == 6
    assert "Self-intersection" in issue.message
    assert "rules.yaml:6 cameras.gate.rules[0].polygon" in text


def test_one_point_line(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - id: ok
                kind: tripwire
                line: [[0.1, 0.1], [0.2, 0.2]]
              - id: short
                kind: tripwire
                line: [[0.1, 0.1]]
        """)
    assert issue.key == "cameras.gate.rules[1].line" and issue.line == 9
    assert "at least 2 points" in issue.message


def test_repeated_point_line_and_out_of_frame(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - {id: a, kind: tripwire, line: [[0.1, 0.1], [0.1, 0.1]]}
        """)
    assert "zero-length" in issue.message
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - {id: a, kind: zone_intrusion, polygon: [[0, 0], [1.5, 0], [1, 1]]}
        """)
    assert "outside [0, 1]" in issue.message and issue.key.endswith("polygon")


def test_unknown_class(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - id: yard
                kind: zone_intrusion
                polygon: [[0, 0], [1, 0], [1, 1]]
                classes: [person, unicorn]
        """)
    assert issue.key == "cameras.gate.rules[0].classes" and issue.line == 7
    assert "unicorn" in issue.message


def test_duplicate_ids(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - {id: yard, kind: zone_intrusion, polygon: [[0, 0], [1, 0], [1, 1]]}
              - {id: yard, kind: tripwire, line: [[0, 0], [1, 1]]}
        """)
    assert issue.key == "cameras.gate.rules" and issue.line == 3
    assert "duplicate rule id 'yard'" in issue.message


def test_unknown_kind_and_extra_key(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - {id: yard, kind: teleport}
        """)
    assert issue.key == "cameras.gate.rules[0]" and "teleport" in issue.message
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - id: yard
                kind: tripwire
                line: [[0, 0], [1, 1]]
                colour: red
        """)
    assert issue.key == "cameras.gate.rules[0].colour" and issue.line == 7


def test_all_kinds_load_and_schema_has_discriminator(tmp_path):
    rf = load_model(RulesFile, write(tmp_path, """\
        cameras:
          gate:
            rules:
              - {id: a, kind: loitering, polygon: [[0, 0], [1, 0], [1, 1]], min_dwell_s: 30}
              - {id: b, kind: crowding, polygon: [[0, 0], [1, 0], [1, 1]], min_count: 4}
        """))
    assert [r.kind for r in rf.cameras["gate"].rules] == ["loitering", "crowding"]
    schema = RulesFile.model_json_schema()
    mapping = schema["$defs"]["CameraRules"]["properties"]["rules"]["items"]["discriminator"]
    assert set(mapping["mapping"]) == {
        "zone_intrusion", "tripwire", "loitering", "crowding",
        "fast_moving", "stationary", "zone_entrance", "zone_exit",
        "abandoned_object", "object_removed", "geofence",
    }
    assert schema["$defs"]["TripwireSpec"]["properties"]["direction"]["description"]


def test_loitering_cross_field_check_names_the_rule(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - id: a
                kind: loitering
                polygon: [[0, 0], [1, 0], [1, 1]]
                max_gap_s: 20
        """)
    assert issue.key == "cameras.gate.rules[0]" and issue.line == 4
    assert "forget_after_s" in issue.message
