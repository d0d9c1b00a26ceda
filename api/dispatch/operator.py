"""Command-room and unit actions beyond an order's own transitions: reassign an order, add units
to an incident, stand an incident down, change a unit's availability.

They run in the engine's transactions and reuse its audit and push plumbing, so every change is
an `order_events` row (order moves) or an `audit_log` row (everything else) with who/when/where.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Policy
from api.dispatch import selection
from api.dispatch.engine import DispatchEngine, OrderNotFound, UnknownResponder
from api.dispatch.eta import estimate
from api.dispatch.states import OPEN, OrderState
from api.dispatch.views import incident_view, order_view, responder_view
from api.store.models import AuditRow, IncidentRow, OrderRow, ResponderRow

STATUSES = ("available", "busy", "off_duty")


class IncidentNotFound(LookupError):
    pass


class Conflict(ValueError):
    """The action cannot apply to the current state (HTTP 409)."""


def _audit(s: Session, engine: DispatchEngine, *, actor: str, origin: str, action: str, target: str,
           detail: dict[str, Any]) -> None:
    s.add(AuditRow(at=engine.clock(), actor=actor, origin=origin, action=action, target=target, detail=detail))


def _policy_for(engine: DispatchEngine, inc: IncidentRow, tier: int) -> Policy:
    """The incident's policy; an operator may add a tier the policy does not name (default deadlines)."""
    p = engine._policy(inc.severity)
    if p is not None and tier in p.arrival_deadline_s:
        return p
    return Policy(tiers=[tier], ack_deadline_s=p.ack_deadline_s if p else 30)


def _candidate(engine: DispatchEngine, s: Session, inc: IncidentRow, r: ResponderRow) -> selection.Candidate:
    """The named unit as a candidate, whatever its ETA: the operator chose it (ETA may be unknown)."""
    if r.status == "off_duty":
        raise Conflict(f"responder {r.id} is off duty")
    busy = s.scalars(select(OrderRow.id).where(OrderRow.responder_id == r.id,
                                               OrderRow.state.in_([x.value for x in OPEN]))).first()
    if busy is not None:
        raise Conflict(f"responder {r.id} already has open order {busy}")
    cfg = engine.config
    eta = estimate(
        target=(inc.lat, inc.lon) if inc.lat is not None and inc.lon is not None else None,
        live=(r.lat, r.lon) if r.lat is not None and r.lon is not None else None, live_at=r.position_at,
        post=(r.post_lat, r.post_lon) if r.post_lat is not None and r.post_lon is not None else None,
        speed_mps=r.speed_mps, now=engine.clock(), detour_factor=cfg.detour_factor, stale_s=cfg.position_stale_s,
    )
    return selection.Candidate(r.id, r.tier, eta)


def _open_incident(s: Session, incident_id: int) -> IncidentRow:
    inc = s.get(IncidentRow, incident_id, with_for_update=True)
    if inc is None:
        raise IncidentNotFound(f"incident {incident_id} not found")
    if inc.status != "open":
        raise Conflict(f"incident {incident_id} is {inc.status}")
    return inc


def _responder(s: Session, responder_id: str) -> ResponderRow:
    r = s.get(ResponderRow, responder_id)
    if r is None:
        raise UnknownResponder(f"responder {responder_id!r} is not configured")
    return r


def reassign(engine: DispatchEngine, order_id: int, to: str, *, actor: str, origin: str) -> dict[str, Any]:
    """Cancel an open order and give its tier slot to another unit (fresh deadlines)."""
    with engine._tx() as (s, out):
        o = engine._lock_order(s, order_id)
        if o.state not in OPEN:
            raise Conflict(f"order {order_id} is {o.state}; only open orders can be reassigned")
        if o.responder_id == to:
            raise Conflict(f"order {order_id} already belongs to {to}")
        inc = _open_incident(s, o.incident_id)
        c = _candidate(engine, s, inc, _responder(s, to))
        engine._move(s, out, o, OrderState.cancelled, actor, origin, detail={"reason": f"reassigned to {to}"})
        new = engine._make_order(s, out, inc, _policy_for(engine, inc, o.tier), o.tier, c,
                                 reason=f"reassigned from order {o.id}", actor=actor, origin=origin)
        return order_view(new, inc)


def add_units(engine: DispatchEngine, incident_id: int, *, actor: str, origin: str, tier: int | None = None,
              count: int = 1, responder_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Order named units, or the `count` fastest free units of `tier`, to an open incident."""
    with engine._tx() as (s, out):
        inc = _open_incident(s, incident_id)
        made: list[OrderRow] = []
        if responder_ids:
            for rid in dict.fromkeys(responder_ids):
                c = _candidate(engine, s, inc, _responder(s, rid))
                t = tier or c.tier
                made.append(engine._make_order(s, out, inc, _policy_for(engine, inc, t), t, c,
                                               reason="added by operator", actor=actor, origin=origin))
        elif tier is not None:
            made = engine._order_candidates(s, inc, _policy_for(engine, inc, tier), tier, count, out,
                                            reason="added by operator")
            if not made:
                # Units already tried for this incident are skipped; the operator can still name one.
                raise Conflict(f"no free tier {tier} unit with a known position left for incident {inc.id}")
        else:
            raise ValueError("name responder_ids or a tier")
        return [order_view(o, inc) for o in made]


def stand_down(engine: DispatchEngine, incident_id: int, *, actor: str, origin: str, reason: str) -> dict[str, Any]:
    """Close an incident without resolution (false alarm, handled elsewhere): every open order cancelled."""
    with engine._tx() as (s, out):
        inc = _open_incident(s, incident_id)
        inc.status, inc.closed_at = "stood_down", engine.clock()
        for o in s.scalars(select(OrderRow).where(OrderRow.incident_id == inc.id).order_by(OrderRow.id)):
            if o.state in OPEN:
                engine._move(s, out, o, OrderState.cancelled, actor, origin, detail={"reason": f"stand down: {reason}"})
        _audit(s, engine, actor=actor, origin=origin, action="incident.stand_down", target=f"incident:{inc.id}",
               detail={"reason": reason})
        out.append({"type": "incident", "incident_id": inc.id, "incident": incident_view(inc)})
        return incident_view(inc)


def set_status(engine: DispatchEngine, responder_id: str, status: str, *, actor: str, origin: str) -> dict[str, Any]:
    """Availability of a unit. Open orders stay: their deadlines replace the unit if it cannot go."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    with engine._tx() as (s, out):
        r = _responder(s, responder_id)
        old, r.status, r.status_at = r.status, status, engine.clock()
        _audit(s, engine, actor=actor, origin=origin, action="responder.status", target=f"responder:{r.id}",
               detail={"old": old, "new": status})
        view = responder_view(r, engine.clock(), engine.config.position_stale_s)
        out.append({"type": "responder", "responder": view})
        return view


def get_order(engine: DispatchEngine, order_id: int) -> dict[str, Any]:
    with engine.sessions() as s:
        o = s.get(OrderRow, order_id)
        if o is None:
            raise OrderNotFound(f"order {order_id} not found")
        return order_view(o, s.get(IncidentRow, o.incident_id))
