"""Load and cross-check everything a worker needs from a config folder.

Each file is validated by its own package's model (found through the `lookout.config_files`
entry points, so this module never imports `api`); the checks that span files, such as a rule
set for a camera that does not exist, live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from alerts.site import SiteFile
from rules.config import RulesFile
from rules.configfile import ConfigError, ConfigIssue, line_of, load_model, read_yaml, validate_tree
from rules.ground_check import ground_issues

from ingest.config import CamerasFile

REQUIRED_FOR_WORKER = ("site.yaml", "cameras.yaml", "rules.yaml")


@dataclass(frozen=True)
class WorkerConfig:
    base_dir: Path
    site: SiteFile
    cameras: CamerasFile
    rules: RulesFile

    def rules_for(self, camera_id: str):
        cam = self.rules.cameras.get(camera_id)
        return list(cam.rules) if cam else []


def _cross_check(base_dir: Path, cameras: CamerasFile, rules_path: Path, rules: RulesFile) -> list[ConfigIssue]:
    known = {c.id for c in cameras.cameras}
    issues = []
    tree = read_yaml(rules_path)
    for cam_id in rules.cameras:
        if cam_id not in known:
            issues.append(ConfigIssue(
                str(rules_path), line_of(tree, ("cameras", cam_id)), f"cameras.{cam_id}",
                f"unknown camera {cam_id!r}; cameras.yaml defines: {', '.join(sorted(known)) or 'none'}",
            ))
    # Geofences on cameras that cannot place tracks on the ground would never fire: refuse them.
    issues.extend(ground_issues(rules, ground_cameras(cameras) | (set(rules.cameras) - known), rules_path, tree))
    return issues


def ground_cameras(cameras: CamerasFile) -> set[str]:
    """Cameras whose tracks have ground positions: calibrated ones and drones (telemetry)."""
    return {c.id for c in cameras.cameras if c.calibration is not None or c.kind == "drone"}


def load_worker_config(config_dir: Path | str, rules_path: Path | str | None = None) -> WorkerConfig:
    """Everything a worker or a replay needs; ConfigError lists every problem found."""
    base = Path(config_dir)
    issues: list[ConfigIssue] = []
    loaded = {}
    paths = {"site.yaml": base / "site.yaml", "cameras.yaml": base / "cameras.yaml",
             "rules.yaml": Path(rules_path) if rules_path else base / "rules.yaml"}
    models = {"site.yaml": SiteFile, "cameras.yaml": CamerasFile, "rules.yaml": RulesFile}
    for name, path in paths.items():
        try:
            loaded[name] = load_model(models[name], path)
        except ConfigError as exc:
            issues.extend(exc.issues)
    if not issues:
        issues.extend(_cross_check(base, loaded["cameras.yaml"], paths["rules.yaml"], loaded["rules.yaml"]))
    if issues:
        raise ConfigError(issues)
    return WorkerConfig(base, loaded["site.yaml"], loaded["cameras.yaml"], loaded["rules.yaml"])


def check_config_dir(config_dir: Path | str) -> list[ConfigIssue]:
    """Validate every known file in the folder (all packages) plus the cross-file checks."""
    base = Path(config_dir)
    if not base.is_dir():
        return [ConfigIssue(str(base), None, "", "not a folder")]
    issues: list[ConfigIssue] = []
    for ep in sorted(entry_points(group="lookout.config_files"), key=lambda e: e.name):
        path = base / ep.name
        if not path.exists():
            if ep.name in REQUIRED_FOR_WORKER:
                issues.append(ConfigIssue(str(path), None, "", "missing (required)"))
            continue
        try:
            validate_tree(ep.load(), read_yaml(path), path)
        except ConfigError as exc:
            issues.extend(exc.issues)
    if not issues:
        try:
            load_worker_config(base)
        except ConfigError as exc:
            issues.extend(exc.issues)
    return issues
