"""The fence rules file as the editor saves it: validated, versioned, audited.

`<config_dir>/rules.yaml` stays the file the worker reads (and hot-reloads). Every save also keeps
a numbered copy in `<config_dir>/versions/rules.vN.yaml` and appends one JSON line to
`versions/audit.jsonl` (who, when, which version it replaced, content hash), so a fence change can
be traced and rolled back by copying a version over rules.yaml. The first save keeps the
hand-written file as v0 before replacing it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from rules.config import RulesFile
from rules.configfile import ConfigError, load_model

_VERSION = re.compile(r"^rules\.v(\d+)\.yaml$")
_lock = threading.Lock()  # one writer per process; versions are numbered under it
HEADER = ("# Electronic-fence rules per camera, saved by the console's fence editor.\n"
          "# Coordinates are fractions of the frame (0..1, x right, y down). History: versions/.\n")


class StaleVersion(Exception):
    """The file changed since the editor loaded it."""


class InvalidRules(ValueError):
    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['loc']}: {e['msg']}" for e in errors))


def key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def current_version(config_dir: Path) -> int:
    vdir = Path(config_dir) / "versions"
    nums = [int(m.group(1)) for p in (vdir.iterdir() if vdir.is_dir() else ()) if (m := _VERSION.match(p.name))]
    return max(nums, default=0)


def read(config_dir: Path) -> dict[str, Any]:
    """{version, rules}; `rules` is the validated file as JSON (empty when there is no file)."""
    path = Path(config_dir) / "rules.yaml"
    try:
        model = load_model(RulesFile, path) if path.exists() else RulesFile()
    except ConfigError as exc:
        # A hand-edited file may be broken; the editor shows why instead of overwriting blindly.
        raise InvalidRules([{"loc": i.key or f"line {i.line}", "msg": i.message} for i in exc.issues]) from None
    return {"version": current_version(config_dir), "rules": model.model_dump(mode="json", exclude_defaults=True)}


def validate(data: Any) -> RulesFile:
    try:
        return RulesFile.model_validate(data)
    except ValidationError as exc:
        raise InvalidRules([{"loc": key_path(e["loc"]), "msg": e["msg"].removeprefix("Value error, ")}
                            for e in exc.errors()]) from None


def _dump(doc: dict[str, Any]) -> str:
    yaml = YAML(typ="safe")
    yaml.default_flow_style = None  # points stay one per line: [x, y]
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return HEADER + buf.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # the worker's hot reload never sees half a file


def save(config_dir: Path, data: Any, *, actor: str, base_version: int | None, comment: str = "") -> dict[str, Any]:
    """Validate `data` against RulesFile and write it as the next version; returns the audit entry."""
    model = validate(data)
    text = _dump(model.model_dump(mode="json", exclude_defaults=True))
    config_dir = Path(config_dir)
    vdir = config_dir / "versions"
    with _lock:
        version = current_version(config_dir)
        if base_version is not None and base_version != version:
            raise StaleVersion(f"rules changed since you loaded version {base_version}; now at version {version}")
        vdir.mkdir(parents=True, exist_ok=True)
        target = config_dir / "rules.yaml"
        if version == 0 and target.exists() and not (vdir / "rules.v0.yaml").exists():
            (vdir / "rules.v0.yaml").write_bytes(target.read_bytes())
        new = version + 1
        _write_atomic(vdir / f"rules.v{new}.yaml", text)
        _write_atomic(target, text)
        entry = {"version": new, "previous": version, "at": time.time(), "actor": actor,
                 "sha256": hashlib.sha256(text.encode()).hexdigest(), "comment": comment[:500],
                 "cameras": sorted(model.cameras)}
        with open(vdir / "audit.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    # For the editor's hint: `lookout replay REC --compare OLD NEW` shows what the change would fire.
    return {**entry, "file": str(vdir / f"rules.v{new}.yaml"), "previous_file": str(vdir / f"rules.v{version}.yaml")}


def history(config_dir: Path, limit: int = 50) -> list[dict[str, Any]]:
    path = Path(config_dir) / "versions" / "audit.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    return [json.loads(x) for x in reversed(lines) if x.strip()]
