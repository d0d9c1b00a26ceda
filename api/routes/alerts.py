from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from api import queries
from api.auth import Principal, require
from api.deps import EpochS, Limit, get_session, get_settings, visible_nodes
from api.dispatch.views import alert_view
from api.settings import Settings

router = APIRouter(prefix="/api", tags=["alerts"])
READERS = ("operator", "engineer", "service")


@router.get("/alerts")
def list_alerts(request: Request, limit: Limit = 100, since: EpochS = None, s: Session = Depends(get_session),
                who: Principal = Depends(require(*READERS))) -> list[dict]:
    return queries.list_alerts(s, limit, since, visible_nodes(request, who.node))


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: str, request: Request, s: Session = Depends(get_session),
              who: Principal = Depends(require(*READERS))) -> dict:
    row = queries.get_alert(s, alert_id, visible_nodes(request, who.node))
    if row is None:
        raise HTTPException(404, f"alert {alert_id} not found")
    return alert_view(row, full=True)


def snapshot_path(uri: str | None, data_dir: Path) -> Path | None:
    """The local file a `file://` snapshot URI names, only when it lies under data_dir."""
    if not uri or not uri.startswith("file://"):
        return None
    path = Path(unquote(urlparse(uri).path)).resolve()
    root = data_dir.resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


@router.get("/alerts/{alert_id}/snapshot", response_class=FileResponse)
def get_snapshot(alert_id: str, request: Request, s: Session = Depends(get_session),
                 settings: Settings = Depends(get_settings), who: Principal = Depends(require(*READERS, allow_query=True))):
    # allow_query: <img src> cannot send headers either.
    row = queries.get_alert(s, alert_id, visible_nodes(request, who.node))
    path = snapshot_path(row.payload.get("snapshot") if row else None, settings.data_dir)
    if path is None:
        raise HTTPException(404, "no snapshot for this alert")
    return FileResponse(path, media_type="image/jpeg")


@router.get("/incidents", tags=["incidents"])
def list_incidents(request: Request, status: str | None = None, limit: Limit = 100,
                   s: Session = Depends(get_session), who: Principal = Depends(require(*READERS))) -> list[dict]:
    return queries.list_incidents(s, status, limit, visible_nodes(request, who.node))
