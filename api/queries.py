"""Read-side queries for the REST routes (kept out of the routes so they stay thin)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.dispatch.states import OPEN
from api.dispatch.views import alert_view, incident_view, order_view
from api.store.models import AlertRow, IncidentRow, OrderRow


def list_alerts(s: Session, limit: int = 100, since: float | None = None) -> list[dict[str, Any]]:
    q = select(AlertRow).order_by(AlertRow.received_at.desc()).limit(limit)
    if since is not None:
        q = q.where(AlertRow.received_at >= since)
    return [alert_view(a) for a in s.scalars(q)]


def get_alert(s: Session, alert_id: str) -> AlertRow | None:
    return s.get(AlertRow, alert_id)


def list_incidents(s: Session, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    q = select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
    if status:
        q = q.where(IncidentRow.status == status)
    return [incident_view(i) for i in s.scalars(q)]


def list_orders(
    s: Session, *, responder_id: str | None = None, open_only: bool = False,
    incident_id: int | None = None, limit: int = 200,
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
    return [order_view(o, i) for o, i in s.execute(q).all()]
