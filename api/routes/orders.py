from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api import queries
from api.auth import Principal, forbid_other_unit, require
from api.deps import client_origin, get_engine, get_session
from api.dispatch.engine import DispatchEngine, NotYourOrder, OrderNotFound, UnknownResponder
from api.dispatch.states import ACTIONS, IllegalTransition

router = APIRouter(prefix="/api", tags=["orders"])


@router.get("/orders")
def list_orders(open: bool = False, incident_id: int | None = None, limit: int = 200,
                s: Session = Depends(get_session),
                who: Principal = Depends(require("operator", "engineer", "service", "unit"))) -> list[dict]:
    """Units see only their own orders."""
    mine = who.subject if who.role == "unit" else None
    return queries.list_orders(s, responder_id=mine, open_only=open, incident_id=incident_id, limit=min(limit, 1000))


@router.post("/orders/{order_id}/{action}")
async def act(order_id: int, action: str, request: Request, engine: DispatchEngine = Depends(get_engine),
              who: Principal = Depends(require("operator", "unit"))) -> dict:
    if action not in ACTIONS:
        raise HTTPException(404, f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    unit = who.subject if who.role == "unit" else None
    try:
        return await run_in_threadpool(
            engine.act, order_id, action, actor=f"{who.role}:{who.subject}", origin=client_origin(request), unit=unit
        )
    except OrderNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except NotYourOrder as exc:
        raise HTTPException(403, str(exc)) from None
    except IllegalTransition as exc:
        raise HTTPException(409, str(exc)) from None


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS84 degrees")
    lon: float = Field(ge=-180, le=180, description="Longitude, WGS84 degrees")


@router.post("/responders/{responder_id}/position", tags=["responders"])
async def post_position(responder_id: str, body: PositionIn, engine: DispatchEngine = Depends(get_engine),
                        who: Principal = Depends(require("operator", "unit", "service"))) -> dict:
    forbid_other_unit(who, responder_id)
    try:
        return await run_in_threadpool(engine.update_position, responder_id, body.lat, body.lon)
    except UnknownResponder as exc:
        raise HTTPException(404, str(exc)) from None
