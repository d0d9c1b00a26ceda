"""Camera health for the command room: each camera of cameras.yaml with the worker's newest
`lookout.health.v1` record (live / connecting / stalled / lost / ended, or `silent` when the
records stopped) and when it last delivered a frame. Logic in `api.console_health`."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request

from api.auth import require
from api.console_health import view
from api.deps import get_settings
from api.routes import console_sitecfg
from api.settings import Settings

router = APIRouter(prefix="/api/console", tags=["console"])


@router.get("/camera-health")
def camera_health(request: Request, settings: Settings = Depends(get_settings),
                  _=Depends(require("operator", "engineer"))) -> list[dict]:
    """One row per camera: `health`, `last_seen` (epoch of its newest frame), `report` (the record)."""
    board = getattr(request.app.state, "health_board", None)  # None: no bus in this process
    latest = board.all() if board is not None else {}
    now = time.time()
    return [view(c, latest.get(c["id"]), console_sitecfg.frame_age_s(settings.data_dir, c["id"], now), now)
            for c in console_sitecfg.cameras(settings.config_dir)]
