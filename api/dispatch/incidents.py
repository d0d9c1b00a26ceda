"""Alerts into incidents: which open incident an alert joins, and lifecycle follow-ups.

Plain functions on an open session; the engine owns the transaction and emits `out` after the
commit. One place and time window (same source and zone within `incident_window_s`) is one
incident; an update or end of a recorded alert refreshes it and never dispatches again.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.model import Alert
from api.dispatch.views import alert_view, incident_view
from api.store.models import AlertRow, IncidentRow

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def follow_up(s: Session, row: AlertRow, alert: Alert, out: list[dict[str, Any]]) -> int | None:
    """An update or end of a recorded alert refreshes it and its incident; it dispatches no one
    (the start did). A replayed or older message (sequence not above the stored one) is a
    duplicate: None."""
    if alert.sequence <= int(row.payload.get("sequence", 0)):
        return None
    row.payload = json.loads(alert.model_dump_json())  # a new dict: JSON columns track assignment
    inc = s.get(IncidentRow, row.incident_id)
    if inc is not None:
        inc.last_observed_at = max(inc.last_observed_at, alert.observed_at.timestamp())
    out.append({"type": "alert_update", "incident_id": row.incident_id, "alert": alert_view(row)})
    return row.incident_id


def group(s: Session, alert: Alert, observed: float, now: float, out: list[dict[str, Any]], *,
          window_s: float, node: str | None) -> IncidentRow:
    """Same source and zone within the window joins the open incident; else a new one (of org
    `node`)."""
    zone = alert.location.zone
    q = select(IncidentRow).where(
        IncidentRow.source_id == alert.source.id,
        IncidentRow.zone.is_(None) if zone is None else IncidentRow.zone == zone,
        IncidentRow.status == "open",
        IncidentRow.drill.is_(bool(alert.drill)),  # a drill never joins a real incident, nor the reverse
        IncidentRow.last_observed_at >= observed - window_s,
    ).order_by(IncidentRow.id.desc()).limit(1)
    inc = s.scalars(q).first()
    lat, lon = alert.location.lat, alert.location.lon
    if (lat is None or lon is None) and alert.objects and alert.objects[0].geo:
        lat, lon = alert.objects[0].geo
    if inc is None:
        inc = IncidentRow(
            source_id=alert.source.id, zone=zone, severity=alert.rule.severity, lat=lat, lon=lon,
            status="open", opened_at=now, last_observed_at=observed, alert_count=1, drill=bool(alert.drill),
            node=node,
        )
        s.add(inc)
        s.flush()
    else:
        inc.alert_count += 1
        inc.last_observed_at = max(inc.last_observed_at, observed)
        if SEVERITY_RANK[alert.rule.severity] > SEVERITY_RANK.get(inc.severity, 0):
            inc.severity = alert.rule.severity  # a worse alert widens the dispatch
        if inc.lat is None and lat is not None:
            inc.lat, inc.lon = lat, lon
    out.append({"type": "incident", "incident_id": inc.id, "incident": incident_view(inc)})
    return inc
