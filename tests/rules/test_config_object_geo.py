"""Config errors of abandoned_object, object_removed and geofence name file, key and line; the
cross-file check refuses a geofence on a camera without ground positions."""

import pytest

from rules.config import AbandonedObjectSpec, GeofenceSpec, ObjectRemovedSpec, RulesFile
from rules.configfile import load_model
from rules.ground_check import ground_issues
from tests.rules.test_config import issue_of, write

GOOD = """\
cameras:
  hall:
    rules:
      - id: left-luggage
        kind: abandoned_object
        polygon: [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0], [0.1, 1.0]]
        min_static_s: 60
        unattended_s: 30
      - id: exhibit
        kind: object_removed
        classes: [vase]
        gone_s: 10
        require_person_s: 5
  gate:
    rules:
      - id: compound
        kind: geofence
        trigger: enter
        polygons:
          - [[52.5200, 13.4000], [52.5200, 13.4010], [52.5207, 13.4010], [52.5207, 13.4000]]
          - [[52.5210, 13.4000], [52.5212, 13.4003], [52.5210, 13.4006]]
"""


def test_good_file_and_defaults(tmp_path):
    rf = load_model(RulesFile, write(tmp_path, GOOD))
    bag, vase = rf.cameras["hall"].rules
    fence = rf.cameras["gate"].rules[0]
    assert isinstance(bag, AbandonedObjectSpec) and isinstance(vase, ObjectRemovedSpec)
    assert isinstance(fence, GeofenceSpec) and len(fence.polygons) == 2
    assert bag.classes == ["backpack", "handbag", "suitcase"] and bag.owner_classes == ["person"]
    assert (bag.static_radius, bag.owner_distance, bag.forget_after_s) == (0.02, 0.08, 30.0)
    assert (vase.gone_s, vase.require_person_s, vase.polygon) == (10.0, 5.0, None)
    assert (fence.min_inside_s, fence.min_outside_s) == (1.0, 0.5)


@pytest.mark.parametrize("polygon, key, words", [
    ("[[95.0, 13.4], [52.5, 13.41], [52.51, 13.4]]", "polygons[0]", "latitude outside [-90, 90]"),
    ("[[52.5, 190.0], [52.5, 13.41], [52.51, 13.4]]", "polygons[0]", "longitude outside [-180, 180]"),
    ("[[52.5, 13.4], [52.5, 13.41]]", "polygons[0]", "at least 3"),
    ("[[52.50, 13.40], [52.51, 13.41], [52.51, 13.40], [52.50, 13.41]]", "polygons[0]", "Self-intersection"),
    ("[[52.5, 13.4], [52.5, 13.41], [52.5, 13.42]]", "polygons[0]", "not simple"),  # collinear
])
def test_bad_geofence_polygon_names_the_polygon_and_line(tmp_path, polygon, key, words):
    issue, text = issue_of(tmp_path, f"""\
        cameras:
          gate:
            rules:
              - id: compound
                kind: geofence
                polygons:
                  - {polygon}
        """)
    assert issue.key == f"cameras.gate.rules[0].{key}" and issue.line == 7
    assert words in issue.message
    assert f"rules.yaml:7 cameras.gate.rules[0].{key}" in text


def test_geofence_needs_polygons_and_a_known_trigger(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - {id: a, kind: geofence, polygons: []}
        """)
    assert issue.key == "cameras.gate.rules[0].polygons" and "at least 1" in issue.message
    issue, _ = issue_of(tmp_path, """\
        cameras:
          gate:
            rules:
              - id: a
                kind: geofence
                polygons: [[[0, 0], [0, 1], [1, 1]]]
                trigger: linger
        """)
    assert issue.key == "cameras.gate.rules[0].trigger" and issue.line == 7


def test_object_rule_errors(tmp_path):
    issue, _ = issue_of(tmp_path, """\
        cameras:
          hall:
            rules:
              - id: a
                kind: object_removed
                gone_s: 60
        """)
    assert issue.key == "cameras.hall.rules[0]" and issue.line == 4
    assert "gone_s (60.0) must be below forget_after_s (30.0)" in issue.message
    issue, _ = issue_of(tmp_path, """\
        cameras:
          hall:
            rules:
              - id: a
                kind: abandoned_object
                owner_classes: [person, ghost]
        """)
    assert issue.key == "cameras.hall.rules[0].owner_classes" and issue.line == 6
    assert "ghost" in issue.message
    issue, _ = issue_of(tmp_path, """\
        cameras:
          hall:
            rules:
              - id: a
                kind: abandoned_object
                polygon: [[0, 0], [1, 1], [1, 0], [0, 1]]
        """)
    assert issue.key == "cameras.hall.rules[0].polygon" and issue.line == 6


def test_geofence_on_a_camera_without_ground_positions_is_refused(tmp_path):
    path = write(tmp_path, GOOD)
    rf = load_model(RulesFile, path)
    assert ground_issues(rf, {"gate"}, path) == []
    (issue,) = ground_issues(rf, {"hall"}, path)
    assert (issue.file, issue.line, issue.key) == (str(path), 17, "cameras.gate.rules[0]")
    assert "geofence rule 'compound' needs ground positions" in issue.message
    assert "camera 'gate' has no calibration" in str(issue)
