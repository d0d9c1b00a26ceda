"""Command-room actions and responder state: reassign, add units, stand down, unit status, audit.

Included before `orders`, so `/orders/{id}/reassign` is not taken for an order action.
Org scope (api.org): a user bound to a node reads and acts only on incidents, orders and units of
that node and below; anything else answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from api import queries
from api.auth import Principal, forbid_other_unit, require
from api.deps import (
    EpochS, IncidentId, Limit, OrderId, client_origin, get_engine, get_session, visible_nodes,
)
from api.dispatch import drills, operator
from api.dispatch.engine import DispatchEngine, OrderNotFound, UnknownResponder
from api.dispatch.states import IllegalTransition

router = APIRouter(prefix="/api")
READERS = ("operator", "engineer", "service")
ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    responder_id: str = Field(pattern=ID, max_length=64, description="The unit that takes the order over")


class AddUnitsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    responder_ids: list[str] | None = Field(default=None, max_length=50, description="Units to order by name")
    tier: Literal[1, 2, 3] | None = Field(default=None, description="Or: order the fastest free units of this tier")
    count: int = Field(default=1, ge=1, le=20, description="How many units of `tier`")

    @model_validator(mode="after")
    def _one_way(self) -> "AddUnitsIn":
        if not self.responder_ids and self.tier is None:
            raise ValueError("name responder_ids or a tier")
        return self


class StandDownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="Why, for the audit trail (e.g. false alarm)")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["available", "busy", "off_duty"] = Field(description="Availability of the unit")


def _actor(who: Principal) -> str:
    return f"{who.role}:{who.subject}"


def _in_scope(request: Request, who: Principal, *, incident: int | None = None, order: int | None = None,
              responder: str | None = None) -> None:
    """404 for an incident / order / unit outside the caller's org node (a no-op without org scope)."""
    nodes = visible_nodes(request, who.node)
    if nodes is None:
        return
    with request.app.state.sessions() as s:
        if incident is not None and not queries.incident_visible(s, incident, nodes):
            raise HTTPException(404, f"incident {incident} not found")
        if order is not None and not queries.order_visible(s, order, nodes):
            raise HTTPException(404, f"order {order} not found")
        if responder is not None and not queries.responder_visible(s, responder, nodes):
            raise HTTPException(404, f"responder {responder!r} not found")


async def _call(fn, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
    """Run an engine action in the thread pool and map domain errors to HTTP."""
    try:
        return await run_in_threadpool(fn, *args, **kw)
    except (OrderNotFound, operator.IncidentNotFound, UnknownResponder) as exc:
        raise HTTPException(404, str(exc)) from None
    except (operator.Conflict, IllegalTransition) as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/orders/{order_id}/reassign", tags=["orders"])
async def reassign(order_id: OrderId, body: ReassignIn, request: Request, engine: DispatchEngine = Depends(get_engine),
                   who: Principal = Depends(require("operator"))) -> dict:
    """Cancel an open order and order another unit in its tier slot (fresh deadlines). Returns the new order."""
    await run_in_threadpool(_in_scope, request, who, order=order_id)
    return await _call(operator.reassign, engine, order_id, body.responder_id, actor=_actor(who),
                       origin=client_origin(request))


@router.get("/incidents/{incident_id}", tags=["incidents"])
def get_incident(incident_id: IncidentId, request: Request, s: Session = Depends(get_session),
                 who: Principal = Depends(require(*READERS))) -> dict:
    """The incident with its alerts, orders and event trail (404 outside the user's org node)."""
    out = queries.incident_detail(s, incident_id, visible_nodes(request, who.node))
    if out is None:
        raise HTTPException(404, f"incident {incident_id} not found")
    return out


@router.post("/incidents/{incident_id}/units", tags=["incidents"])
async def add_units(incident_id: IncidentId, body: AddUnitsIn, request: Request,
                    engine: DispatchEngine = Depends(get_engine), who: Principal = Depends(require("operator"))) -> list[dict]:
    """Order more units to an open incident: named ones, or the fastest free ones of a tier."""
    await run_in_threadpool(_in_scope, request, who, incident=incident_id)
    return await _call(operator.add_units, engine, incident_id, tier=body.tier, count=body.count,
                       responder_ids=body.responder_ids, actor=_actor(who), origin=client_origin(request))


@router.post("/incidents/{incident_id}/stand-down", tags=["incidents"])
async def stand_down(incident_id: IncidentId, body: StandDownIn, request: Request,
                     engine: DispatchEngine = Depends(get_engine), who: Principal = Depends(require("operator"))) -> dict:
    """Close the incident without resolution; every open order is cancelled and the units told."""
    await run_in_threadpool(_in_scope, request, who, incident=incident_id)
    return await _call(operator.stand_down, engine, incident_id, reason=body.reason, actor=_actor(who),
                       origin=client_origin(request))


@router.get("/responders", tags=["responders"])
def list_responders(request: Request, s: Session = Depends(get_session),
                    who: Principal = Depends(require(*READERS))) -> list[dict]:
    """Every unit with status, live position and `position_stale` (no fresh position: ETA uses the post).
    Scoped: units of the caller's node and below, and units on open orders of its incidents."""
    engine: DispatchEngine = request.app.state.engine
    return queries.list_responders(s, engine.clock(), engine.config.position_stale_s,
                                   visible_nodes(request, who.node))


@router.post("/responders/{responder_id}/status", tags=["responders"])
async def set_status(responder_id: str, body: StatusIn, request: Request, engine: DispatchEngine = Depends(get_engine),
                     who: Principal = Depends(require("operator", "unit"))) -> dict:
    """available / busy / off_duty; a unit sets its own, an operator any."""
    forbid_other_unit(who, responder_id)
    if who.role != "unit":  # a unit sets its own status wherever it belongs
        await run_in_threadpool(_in_scope, request, who, responder=responder_id)
    return await _call(operator.set_status, engine, responder_id, body.status, actor=_actor(who),
                       origin=client_origin(request))


@router.get("/audit", tags=["audit"])
def audit(request: Request, since: EpochS = None, limit: Limit = 200, s: Session = Depends(get_session),
          who: Principal = Depends(require("operator"))) -> dict:
    """The append-only trail: order events and other changes (unit status, stand-downs, logins), newest
    first; scoped to incidents, units and users of the caller's org node and below."""
    return queries.audit(s, since, limit, visible_nodes(request, who.node))


@router.get("/orders/{order_id}/deliveries", tags=["orders"])
def deliveries(order_id: OrderId, request: Request, s: Session = Depends(get_session),
               who: Principal = Depends(require("operator", "engineer"))) -> list[dict]:
    """Delivery receipts of an order's events per push channel (sse, mqtt, webhook)."""
    nodes = visible_nodes(request, who.node)
    if nodes is not None and not queries.order_visible(s, order_id, nodes):
        raise HTTPException(404, f"order {order_id} not found")
    return queries.deliveries(s, order_id)


class DrillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, description="Where the synthetic alert happens")
    lon: float = Field(ge=-180, le=180, description="Where the synthetic alert happens")
    severity: Literal["low", "medium", "high", "critical"] = Field(default="high", description="Picks the policy")
    zone: str | None = Field(default=None, max_length=128, description="Zone name shown to units")


@router.post("/drills", tags=["drills"])
async def start_drill(body: DrillIn, request: Request, engine: DispatchEngine = Depends(get_engine),
                      who: Principal = Depends(require("operator"))) -> dict:
    """Inject a synthetic alert (marked drill everywhere) through the same engine; returns its incident id."""
    return await _call(drills.run_drill, engine, lat=body.lat, lon=body.lon, severity=body.severity, zone=body.zone,
                       actor=_actor(who), origin=client_origin(request))


@router.get("/drills/{incident_id}", tags=["drills"])
async def drill_report(incident_id: IncidentId, request: Request, engine: DispatchEngine = Depends(get_engine),
                       who: Principal = Depends(require("operator", "engineer"))) -> dict:
    """Loop times of a drill: seconds from the alert to each order's creation, delivery, acknowledge, arrival."""
    await run_in_threadpool(_in_scope, request, who, incident=incident_id)
    try:
        return await run_in_threadpool(drills.loop_times, engine, incident_id)
    except drills.NotADrill as exc:
        raise HTTPException(404, str(exc)) from None
