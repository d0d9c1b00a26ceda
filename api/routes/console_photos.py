"""Field reports from the unit page: note + photo with "resolved", served back to operators.
Logic in `api.field_reports`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from api import field_reports as fr
from api.auth import Principal, forbid_other_unit, require
from api.deps import IncidentId, OrderId, client_origin, get_engine, get_hub, get_session, get_settings, visible_nodes
from api.dispatch.engine import DispatchEngine
from api.push import PushHub
from api.settings import Settings
from api.store.models import IncidentRow, OrderRow

router = APIRouter(prefix="/api/console", tags=["console"])


def _order(s: Session, order_id: int, who: Principal, request: Request) -> OrderRow:
    order = s.get(OrderRow, order_id)
    nodes = visible_nodes(request, who.node)
    if order is None or (nodes is not None and s.get(IncidentRow, order.incident_id).node not in nodes):
        raise HTTPException(404, f"order {order_id} not found")
    forbid_other_unit(who, order.responder_id)
    return order


@router.post("/orders/{order_id}/report")
async def post_report(order_id: OrderId, request: Request,
                      note: Annotated[str, Form(max_length=fr.MAX_NOTE)] = "",
                      photo: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP, at most 8 MiB")] = None,
                      s: Session = Depends(get_session), settings: Settings = Depends(get_settings),
                      engine: DispatchEngine = Depends(get_engine), hub: PushHub = Depends(get_hub),
                      who: Principal = Depends(require("unit", "operator"))) -> dict:
    """multipart/form-data: `note` and/or `photo`. 413 too large, 415 not an image."""
    order = _order(s, order_id, who, request)
    name = None
    if photo is not None and photo.filename:
        data = await photo.read(fr.MAX_PHOTO_BYTES + 1)  # one byte more tells "too large" apart
        try:
            name = await run_in_threadpool(fr.store_photo, settings.data_dir, order_id, data, engine.clock())
        except fr.BadPhoto as exc:
            raise HTTPException(exc.status, str(exc)) from None
    if not note.strip() and name is None:
        raise HTTPException(422, "a report needs a note or a photo")
    out = fr.record(s, order, note=note.strip(), photo=name, actor=f"{who.role}:{who.subject}",
                    origin=client_origin(request), now=engine.clock())
    hub.publish({"type": "field_report", "incident_id": order.incident_id, "report": out})
    return out


@router.get("/orders/{order_id}/photos/{name}", response_class=FileResponse)
def get_photo(order_id: OrderId, name: str, request: Request, s: Session = Depends(get_session),
              settings: Settings = Depends(get_settings),
              who: Principal = Depends(require("unit", "operator", "engineer", allow_query=True))):
    # allow_query: <img src> cannot send headers.
    _order(s, order_id, who, request)
    path = fr.photo_path(settings.data_dir, order_id, name)
    if path is None:
        raise HTTPException(404, "no such photo")
    return FileResponse(path, media_type=fr.TYPES[path.suffix[1:]], headers={"X-Content-Type-Options": "nosniff"})


@router.get("/incidents/{incident_id}/reports")
def incident_reports(incident_id: IncidentId, request: Request, s: Session = Depends(get_session),
                     who: Principal = Depends(require("operator", "engineer"))) -> list[dict]:
    """The units' notes and photos for an incident, oldest first."""
    inc = s.get(IncidentRow, incident_id)
    nodes = visible_nodes(request, who.node)
    if inc is None or (nodes is not None and inc.node not in nodes):
        raise HTTPException(404, f"incident {incident_id} not found")
    return fr.for_incident(s, incident_id)
