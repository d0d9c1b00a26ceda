"""What the patrol-unit page needs beyond the orders API: the snapshot of its own order's scene.

Units may not read alerts (api/routes/alerts.py), but a crew should see what it is sent to; this
serves the newest snapshot of the order's incident, and only to the unit that holds the order.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, forbid_other_unit, require
from api.deps import get_session, get_settings
from api.routes.alerts import snapshot_path
from api.settings import Settings
from api.store.models import AlertRow, OrderRow, ResponderRow

router = APIRouter(prefix="/api/console", tags=["console"])


@router.get("/orders/{order_id}/snapshot", response_class=FileResponse)
def order_snapshot(order_id: int, s: Session = Depends(get_session), settings: Settings = Depends(get_settings),
                   who: Principal = Depends(require("unit", "operator", allow_query=True))):
    order = s.get(OrderRow, order_id)
    if order is None:
        raise HTTPException(404, f"order {order_id} not found")
    forbid_other_unit(who, order.responder_id)
    rows = s.scalars(select(AlertRow).where(AlertRow.incident_id == order.incident_id)
                     .order_by(AlertRow.received_at.desc()).limit(20))
    for row in rows:
        path = snapshot_path(row.payload.get("snapshot"), settings.data_dir)
        if path is not None:
            return FileResponse(path, media_type="image/jpeg")
    raise HTTPException(404, "no snapshot for this order")


@router.get("/units/{unit_id}/position")
def unit_position(unit_id: str, s: Session = Depends(get_session),
                  who: Principal = Depends(require("unit", "operator"))) -> dict:
    """The unit's duty post and last known position, for the small map on its own page."""
    forbid_other_unit(who, unit_id)
    r = s.get(ResponderRow, unit_id)
    if r is None:
        raise HTTPException(404, f"unit {unit_id!r} not found")
    return {"id": r.id, "post": {"lat": r.post_lat, "lon": r.post_lon} if r.post_lat is not None else None,
            "position": {"lat": r.lat, "lon": r.lon, "at": r.position_at} if r.lat is not None else None}
