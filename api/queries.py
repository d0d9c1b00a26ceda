"""Read-side queries for the REST routes (kept out of the routes so they stay thin)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, literal, or_, select
from sqlalchemy.orm import Session

from api.dispatch.states import OPEN
from api.dispatch.views import (
    alert_view, audit_view, delivery_view, event_view, incident_view, order_view, responder_view,
)
from api.store.models import (
    AlertRow, AuditRow, DeliveryRow, IncidentRow, OrderEventRow, OrderRow, ResponderRow, UserRow,
)


def list_alerts(s: Session, limit: int = 100, since: float | None = None,
                nodes: set[str] | None = None) -> list[dict[str, Any]]:
    """`nodes`: only alerts of incidents in these org nodes (None: all)."""
    q = select(AlertRow).order_by(AlertRow.received_at.desc()).limit(limit)
    if since is not None:
        q = q.where(AlertRow.received_at >= since)
    if nodes is not None:
        q = q.join(IncidentRow, IncidentRow.id == AlertRow.incident_id).where(IncidentRow.node.in_(sorted(nodes)))
    return [alert_view(a) for a in s.scalars(q)]


def get_alert(s: Session, alert_id: str, nodes: set[str] | None = None) -> AlertRow | None:
    a = s.get(AlertRow, alert_id)
    if a is not None and nodes is not None:
        inc = s.get(IncidentRow, a.incident_id) if a.incident_id is not None else None
        if inc is None or inc.node not in nodes:
            return None  # outside the user's part of the organisation: as if it did not exist
    return a


def list_incidents(s: Session, status: str | None = None, limit: int = 100,
                   nodes: set[str] | None = None) -> list[dict[str, Any]]:
    q = select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
    if status:
        q = q.where(IncidentRow.status == status)
    if nodes is not None:
        q = q.where(IncidentRow.node.in_(sorted(nodes)))
    return [incident_view(i) for i in s.scalars(q)]


def list_orders(
    s: Session, *, responder_id: str | None = None, open_only: bool = False,
    incident_id: int | None = None, limit: int = 200, nodes: set[str] | None = None,
) -> list[dict[str, Any]]:
    q = (
        select(OrderRow, IncidentRow).join(IncidentRow, IncidentRow.id == OrderRow.incident_id)
        .order_by(OrderRow.id.desc()).limit(limit)
    )
    if responder_id is not None:
        q = q.where(OrderRow.responder_id == responder_id)
    if open_only:
        q = q.where(OrderRow.state.in_([x.value for x in OPEN]))
    if incident_id is not None:
        q = q.where(OrderRow.incident_id == incident_id)
    if nodes is not None:
        q = q.where(IncidentRow.node.in_(sorted(nodes)))
    return [order_view(o, i) for o, i in s.execute(q).all()]


def incident_detail(s: Session, incident_id: int, nodes: set[str] | None = None) -> dict[str, Any] | None:
    inc = s.get(IncidentRow, incident_id)
    if inc is None or (nodes is not None and inc.node not in nodes):
        return None
    out = incident_view(inc)
    out["alerts"] = [alert_view(a) for a in s.scalars(
        select(AlertRow).where(AlertRow.incident_id == incident_id).order_by(AlertRow.received_at))]
    out["orders"] = [order_view(o) for o in s.scalars(
        select(OrderRow).where(OrderRow.incident_id == incident_id).order_by(OrderRow.id))]
    out["events"] = [event_view(e) for e in s.scalars(
        select(OrderEventRow).where(OrderEventRow.incident_id == incident_id).order_by(OrderEventRow.id))]
    return out


def incident_visible(s: Session, incident_id: int, nodes: set[str] | None) -> bool:
    """Whether the incident exists for a user who sees `nodes` (None: all)."""
    inc = s.get(IncidentRow, incident_id)
    return inc is not None and (nodes is None or inc.node in nodes)


def order_visible(s: Session, order_id: int, nodes: set[str] | None) -> bool:
    o = s.get(OrderRow, order_id)
    return o is not None and incident_visible(s, o.incident_id, nodes)


def responder_visible(s: Session, responder_id: str, nodes: set[str] | None) -> bool:
    r = s.get(ResponderRow, responder_id)
    return r is not None and (nodes is None or r.node in nodes)


def list_responders(s: Session, now: float, stale_s: float, nodes: set[str] | None = None) -> list[dict[str, Any]]:
    """`nodes`: the units of these org nodes, plus any unit holding an open order on one of their
    incidents (a county or city unit sent in on escalation shows on the station's map)."""
    q = select(ResponderRow).order_by(ResponderRow.id)
    if nodes is not None:
        helping = (select(OrderRow.responder_id).join(IncidentRow, IncidentRow.id == OrderRow.incident_id)
                   .where(IncidentRow.node.in_(sorted(nodes)), OrderRow.state.in_([x.value for x in OPEN])))
        q = q.where(or_(ResponderRow.node.in_(sorted(nodes)), ResponderRow.id.in_(helping)))
    return [responder_view(r, now, stale_s) for r in s.scalars(q)]


def _visible_targets(nodes: set[str]):  # noqa: ANN202 (a SQL condition)
    """Audit-log rows about incidents, units and users of these nodes (targets `incident:7`,
    `responder:patrol-1`, `user:anna`)."""
    ns = sorted(nodes)
    incidents = select(literal("incident:") + cast(IncidentRow.id, String)).where(IncidentRow.node.in_(ns))
    units = select(literal("responder:") + ResponderRow.id).where(ResponderRow.node.in_(ns))
    people = select(literal("user:") + UserRow.username).where(UserRow.node.in_(ns))
    return or_(AuditRow.target.in_(incidents), AuditRow.target.in_(units), AuditRow.target.in_(people))


def audit(s: Session, since: float | None, limit: int, nodes: set[str] | None = None) -> dict[str, Any]:
    """Newest first; `nodes`: only what concerns incidents, units and users of these org nodes."""
    qe = select(OrderEventRow).order_by(OrderEventRow.id.desc()).limit(limit)
    qa = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if since is not None:
        qe, qa = qe.where(OrderEventRow.at >= since), qa.where(AuditRow.at >= since)
    if nodes is not None:
        qe = (qe.join(IncidentRow, IncidentRow.id == OrderEventRow.incident_id)
              .where(IncidentRow.node.in_(sorted(nodes))))
        qa = qa.where(_visible_targets(nodes))
    return {"order_events": [event_view(e) for e in s.scalars(qe)], "changes": [audit_view(a) for a in s.scalars(qa)]}


def deliveries(s: Session, order_id: int) -> list[dict[str, Any]]:
    q = select(DeliveryRow).where(DeliveryRow.order_id == order_id).order_by(DeliveryRow.id)
    return [delivery_view(d) for d in s.scalars(q)]
