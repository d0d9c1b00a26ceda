"""Hot reload of fence rules in a running worker, keeping the last good rules on a bad file.

Engineers save `rules.yaml` (by hand or from the console's fence editor); the worker notices the
new modification time, validates the whole file, and only then swaps each camera's rule set
(`RuleEngine.replace` keeps the state of unchanged rules). A file that does not validate is
logged with file, line and key, and the engine keeps running on what it had.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from rules.config import RulesFile
from rules.configfile import ConfigError, ConfigIssue, line_of, load_model, read_yaml
from rules.ground_check import ground_issues

log = logging.getLogger("lookout.rules")


class RulesWatcher:
    def __init__(self, path: Path, camera_ids: set[str], ground_cameras: set[str] | None = None):
        self.path = Path(path)
        self.camera_ids = camera_ids
        # Cameras that know where tracks stand on the ground (calibrated, drones); None: all.
        self.ground_cameras = ground_cameras
        self._mtime = self._stat()
        self.rejected = 0

    def _stat(self) -> float | None:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return None

    def poll(self) -> RulesFile | None:
        """The new rules when the file changed and is valid; None otherwise (logged)."""
        mtime = self._stat()
        if mtime is None or mtime == self._mtime:
            return None
        self._mtime = mtime
        try:
            rules = load_model(RulesFile, self.path)
            unknown = sorted(set(rules.cameras) - self.camera_ids)
            if unknown:
                tree = read_yaml(self.path)
                raise ConfigError([ConfigIssue(str(self.path), line_of(tree, ("cameras", c)), f"cameras.{c}",
                                               f"unknown camera {c!r}") for c in unknown])
            if self.ground_cameras is not None:
                issues = ground_issues(rules, self.ground_cameras, self.path)
                if issues:
                    raise ConfigError(issues)
        except ConfigError as exc:
            self.rejected += 1
            for issue in exc.issues:
                log.error("rules not reloaded, keeping the last good rules: %s", issue)
            return None
        return rules
