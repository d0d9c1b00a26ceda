"""The operator's acknowledge of an incident ("seen, being handled"), kept on the server.

Stored as an `audit_log` row (action `incident.acknowledge`, target `incident:<id>`): who and when,
append-only like every operator action, so every command-room screen and a reloaded page show it.
Dismissing as a false alarm is the dispatch API's stand-down (`POST /api/incidents/{id}/stand-down`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, require
from api.deps import IncidentId, client_origin, get_engine, get_hub, get_session, visible_nodes
from api.dispatch.engine import DispatchEngine
from api.push import PushHub
from api.store.models import AuditRow, IncidentRow

router = APIRouter(prefix="/api/console", tags=["console"])
ACTION = "incident.acknowledge"


def _ack(row: AuditRow) -> dict:
    return {"incident_id": int(row.target.split(":", 1)[1]), "by": row.actor, "at": row.at}


@router.post("/incidents/{incident_id}/acknowledge")
def acknowledge(incident_id: IncidentId, request: Request, s: Session = Depends(get_session),
                engine: DispatchEngine = Depends(get_engine), hub: PushHub = Depends(get_hub),
                who: Principal = Depends(require("operator"))) -> dict:
    """Idempotent: the first acknowledge stands (who saw it first is what the record is for)."""
    inc = s.get(IncidentRow, incident_id)
    nodes = visible_nodes(request, who.node)
    if inc is None or (nodes is not None and inc.node not in nodes):
        raise HTTPException(404, f"incident {incident_id} not found")
    target = f"incident:{incident_id}"
    old = s.scalars(select(AuditRow).where(AuditRow.action == ACTION, AuditRow.target == target)).first()
    if old is not None:
        return _ack(old)
    if inc.status != "open":
        raise HTTPException(409, f"incident {incident_id} is {inc.status}, not open")
    row = AuditRow(at=engine.clock(), actor=f"{who.role}:{who.subject}", origin=client_origin(request),
                   action=ACTION, target=target, detail={})
    s.add(row)
    s.commit()
    out = _ack(row)
    hub.publish({"type": "incident_ack", "incident_id": incident_id, "ack": out})
    return out


@router.get("/incident-acks")
def incident_acks(request: Request, s: Session = Depends(get_session),
                  who: Principal = Depends(require("operator", "engineer"))) -> list[dict]:
    """Acknowledges of the open incidents (the board's set)."""
    q = select(IncidentRow.id).where(IncidentRow.status == "open")
    nodes = visible_nodes(request, who.node)
    if nodes is not None:
        q = q.where(IncidentRow.node.in_(sorted(nodes)))
    targets = [f"incident:{i}" for i in s.scalars(q)]
    if not targets:
        return []
    rows = s.scalars(select(AuditRow).where(AuditRow.action == ACTION, AuditRow.target.in_(targets))
                     .order_by(AuditRow.id))
    first: dict[str, AuditRow] = {}
    for r in rows:
        first.setdefault(r.target, r)
    return [_ack(r) for r in first.values()]
