"""The site as the console draws it: cameras and site centre read from the config folder.

Plain YAML reading on purpose: `cameras.yaml` is validated by `ingest.config`, which the api must
not import (the api and ingest talk only over the bus). The console needs just ids, names and
positions, and tolerates a file that is missing or partly wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _load(path: Path) -> Any:
    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError):
        return None


def _point(v: Any) -> dict[str, float] | None:
    if isinstance(v, dict) and isinstance(v.get("lat"), int | float) and isinstance(v.get("lon"), int | float):
        return {"lat": float(v["lat"]), "lon": float(v["lon"])}
    return None


def cameras(config_dir: Path) -> list[dict[str, Any]]:
    """[{id, name, location}] in file order; entries without a usable id are skipped."""
    doc = _load(Path(config_dir) / "cameras.yaml")
    items = doc.get("cameras") if isinstance(doc, dict) else None
    out = []
    for c in items if isinstance(items, list) else []:
        if isinstance(c, dict) and isinstance(c.get("id"), str) and CAMERA_ID.match(c["id"]):
            # Never the url: it may carry stream credentials.
            out.append({"id": c["id"], "name": str(c.get("name") or c["id"]), "location": _point(c.get("location"))})
    return out


def site(config_dir: Path) -> dict[str, Any]:
    doc = _load(Path(config_dir) / "site.yaml")
    s = doc.get("site") if isinstance(doc, dict) else None
    s = s if isinstance(s, dict) else {}
    return {"id": str(s.get("id", "")), "name": str(s.get("name", "")), "location": _point(s.get("location"))}


def frame_age_s(data_dir: Path, camera_id: str, now: float) -> float | None:
    """Seconds since the worker last wrote the camera's frame: the console's camera-health signal
    (the worker writes one about every second while the stream is live); None: never."""
    path = frame_path(data_dir, camera_id)
    try:
        return max(0.0, now - path.stat().st_mtime) if path is not None else None
    except OSError:
        return None


def frame_path(data_dir: Path, camera_id: str) -> Path | None:
    """`<data_dir>/frames/<camera>.jpg` written by the worker, when it exists."""
    if not CAMERA_ID.match(camera_id):
        return None
    path = (Path(data_dir) / "frames" / f"{camera_id}.jpg").resolve()
    root = (Path(data_dir) / "frames").resolve()
    return path if path.is_relative_to(root) and path.is_file() else None
