"""Reads the console pages need that the dispatch API does not offer: who am I, the site's cameras
and their newest frames, responder positions for the map. Logic in `console_sitecfg`."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, require
from api.deps import get_session, get_settings, visible_nodes
from api.routes import console_sitecfg
from api.settings import Settings
from api.store.models import ResponderRow

router = APIRouter(prefix="/api", tags=["console"])
VIEWERS = ("operator", "engineer")


@router.get("/console/whoami")
def whoami(who: Principal = Depends(require("operator", "engineer", "unit", "service"))) -> dict:
    """The session's role and subject, so a page shows the right view (a unit page needs its id)."""
    return {"role": who.role, "subject": who.subject}


@router.get("/cameras")
def list_cameras(settings: Settings = Depends(get_settings), _=Depends(require(*VIEWERS))) -> list[dict]:
    """Cameras of `cameras.yaml`: id, name, location (never the stream URL), and `frame_age_s`:
    seconds since the worker's newest frame of it (null: none yet), as a health signal."""
    now = time.time()
    return [{**c, "frame_age_s": console_sitecfg.frame_age_s(settings.data_dir, c["id"], now)}
            for c in console_sitecfg.cameras(settings.config_dir)]


@router.get("/console/site")
def site(settings: Settings = Depends(get_settings), _=Depends(require(*VIEWERS))) -> dict:
    return console_sitecfg.site(settings.config_dir)


@router.get("/cameras/{camera_id}/frame.jpg", response_class=FileResponse)
def latest_frame(camera_id: str, settings: Settings = Depends(get_settings),
                 _=Depends(require(*VIEWERS, allow_query=True))):
    # allow_query: <img src> cannot send headers.
    path = console_sitecfg.frame_path(settings.data_dir, camera_id)
    if path is None:
        raise HTTPException(404, f"no frame for camera {camera_id!r} yet")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/console/responders")
def responders(request: Request, s: Session = Depends(get_session),
               who: Principal = Depends(require(*VIEWERS))) -> list[dict]:
    """Units with post and live position, for the command room's map (an org-scoped user: the
    units of their node and below)."""
    nodes = visible_nodes(request, who.node)
    return [{"id": r.id, "name": r.name, "type": r.type, "tier": r.tier, "status": r.status,
             "post": {"lat": r.post_lat, "lon": r.post_lon} if r.post_lat is not None else None,
             "position": {"lat": r.lat, "lon": r.lon, "at": r.position_at} if r.lat is not None else None}
            for r in s.scalars(select(ResponderRow).order_by(ResponderRow.tier, ResponderRow.id))
            if nodes is None or r.node in nodes]
