"""A manual alert from the video patrol: the operator saw something on a camera's latest frame.

It becomes an ordinary Alert v1 (rule kind `manual`, evidence says who raised it) with the frame
the operator was looking at as its snapshot, and goes through the same dispatch as a fence alert.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from alerts.model import Alert, make_alert_id
from api.routes import console_sitecfg


class UnknownCamera(LookupError):
    pass


def build(config_dir: Path, data_dir: Path, camera_id: str, severity: str, note: str, actor: str,
          now: float | None = None) -> Alert:
    cams = {c["id"]: c for c in console_sitecfg.cameras(config_dir)}
    if camera_id not in cams:
        raise UnknownCamera(f"camera {camera_id!r} is not in cameras.yaml")
    now = time.time() if now is None else now
    site = console_sitecfg.site(config_dir)["id"] or "site"
    alert_id = make_alert_id(site, camera_id, "manual", 0, now)
    snapshot = None
    frame = console_sitecfg.frame_path(data_dir, camera_id)
    if frame is not None:
        # A copy: the live frame file is replaced every second; the alert keeps what was seen.
        target = Path(data_dir) / "snapshots" / f"manual-{alert_id}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(frame, target)
        snapshot = target.resolve().as_uri()
    at = datetime.fromtimestamp(now, timezone.utc)
    loc = cams[camera_id]["location"] or {}
    return Alert(
        alert_id=alert_id, site=site, source={"kind": "camera", "id": camera_id},
        rule={"id": "manual", "kind": "manual", "severity": severity}, started_at=at, observed_at=at,
        emitted_at=at, location={"lat": loc.get("lat"), "lon": loc.get("lon"), "zone": "manual"},
        snapshot=snapshot, evidence={"raised_by": actor, "note": note},
    )
