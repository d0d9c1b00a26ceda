from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import queries
from api.auth import Principal, forbid_other_unit, require
from api.deps import MAX_ID, Limit, OrderId, client_origin, get_engine, get_session, visible_nodes
from api.dispatch.engine import DispatchEngine, NotYourOrder, OrderNotFound, UnknownResponder
from api.dispatch.states import ACTIONS, IllegalTransition
from api.positions import PositionIn
from api.ratelimit import RateLimiter
from api.store.models import OrderEventRow

router = APIRouter(prefix="/api", tags=["orders"])


class ActionIn(BaseModel):
    """Optional body of an order action."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000,
                             description="Free text kept in the change's audit entry, e.g. how it was resolved")


def _with_resolve_notes(s: Session, orders: list[dict]) -> list[dict]:
    """`resolve_note` on resolved orders: the note of the audit entry that resolved them."""
    ids = [o["id"] for o in orders if o["state"] == "resolved"]
    notes: dict[int, str | None] = {}
    if ids:
        for order_id, detail in s.execute(select(OrderEventRow.order_id, OrderEventRow.detail).where(
                OrderEventRow.order_id.in_(ids), OrderEventRow.new_state == "resolved")):
            notes[order_id] = (detail or {}).get("note")
    for o in orders:
        if o["state"] == "resolved":
            o["resolve_note"] = notes.get(o["id"])
    return orders


@router.get("/orders")
def list_orders(request: Request, open: bool = False, incident_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None, limit: Limit = 200,
                s: Session = Depends(get_session),
                who: Principal = Depends(require("operator", "engineer", "service", "unit"))) -> list[dict]:
    """Units see only their own orders."""
    mine = who.subject if who.role == "unit" else None
    return _with_resolve_notes(s, queries.list_orders(s, responder_id=mine, open_only=open, incident_id=incident_id,
                                                      limit=limit, nodes=visible_nodes(request, who.node)))


@router.post("/orders/{order_id}/{action}")
async def act(order_id: OrderId, action: str, request: Request, body: ActionIn | None = Body(default=None),
              engine: DispatchEngine = Depends(get_engine),
              who: Principal = Depends(require("operator", "unit"))) -> dict:
    """Body optional: `{"note": "..."}` is kept with the change (and shown as `resolve_note`)."""
    if action not in ACTIONS:
        raise HTTPException(404, f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    unit = who.subject if who.role == "unit" else None
    note = body.note if body else None
    try:
        out = await run_in_threadpool(
            engine.act, order_id, action, actor=f"{who.role}:{who.subject}", origin=client_origin(request), unit=unit,
            note=note,
        )
        if out["state"] == "resolved":
            out["resolve_note"] = note
        return out
    except OrderNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except NotYourOrder as exc:
        raise HTTPException(403, str(exc)) from None
    except IllegalTransition as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/responders/{responder_id}/position", tags=["responders"])
async def post_position(responder_id: str, body: PositionIn, request: Request, engine: DispatchEngine = Depends(get_engine),
                        who: Principal = Depends(require("operator", "unit", "service"))) -> dict:
    """A live position; more than `position_burst` at once or `position_rate_per_s` on average → 429."""
    forbid_other_unit(who, responder_id)
    limiter: RateLimiter = request.app.state.position_limiter
    if not limiter.allow(responder_id):
        raise HTTPException(429, "too many position updates for this unit",
                            headers={"Retry-After": str(limiter.retry_after())})
    try:
        return await run_in_threadpool(engine.update_position, responder_id, body.lat, body.lon)
    except UnknownResponder as exc:
        raise HTTPException(404, str(exc)) from None
