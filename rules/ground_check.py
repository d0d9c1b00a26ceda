"""Config check: rules that need ground positions (geofence) only on cameras that have them.

A geofence is tested on where tracks stand on the ground, which only a calibrated camera
(`calibration` in cameras.yaml) or a drone (telemetry) can tell. On any other camera it would
never fire, so the cross-file checks refuse it with the file and line of the rule. The caller
(the worker's config loader, the rules hot reload) says which cameras have ground positions;
this module does not read cameras.yaml, which belongs to `ingest`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rules.config import RulesFile
from rules.configfile import ConfigIssue, line_of, read_yaml
from rules.engine import needs_ground


def ground_issues(
    rules: RulesFile, ground_cameras: set[str], rules_path: Path | str, tree: Any = None
) -> list[ConfigIssue]:
    """One issue per ground rule on a camera not in `ground_cameras`."""
    issues: list[ConfigIssue] = []
    for cam_id, cam in rules.cameras.items():
        if cam_id in ground_cameras:
            continue
        for i, spec in enumerate(cam.rules):
            if not needs_ground(spec):
                continue
            if tree is None:
                tree = read_yaml(Path(rules_path))
            issues.append(ConfigIssue(
                str(rules_path),
                line_of(tree, ("cameras", cam_id, "rules", i, "kind")),
                f"cameras.{cam_id}.rules[{i}]",
                f"{spec.kind} rule {spec.id!r} needs ground positions, but camera {cam_id!r} has "
                "no calibration in cameras.yaml and is not a drone: it would never fire",
            ))
    return issues
