"""Drill mode: a synthetic alert at a place runs through the same engine, marked drill everywhere
(incident, every pushed event, order views), and the loop times are read back from the audit.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from alerts.model import Alert, make_alert_id
from api.dispatch.engine import DispatchEngine
from api.store.models import AuditRow, IncidentRow, OrderEventRow, OrderRow

DRILL_SITE = "drill"


class NotADrill(LookupError):
    pass


def run_drill(engine: DispatchEngine, *, lat: float, lon: float, severity: str, actor: str, origin: str,
              zone: str | None = None) -> dict[str, Any]:
    """Inject the alert; returns the drill's incident id and alert id."""
    now = engine.clock()
    ts = datetime.fromtimestamp(now, timezone.utc)
    source = f"drill-{uuid.uuid4().hex[:10]}"  # its own source: it can never join another incident
    alert = Alert(
        alert_id=make_alert_id(DRILL_SITE, source, "drill", 0, now), site=DRILL_SITE,
        source={"kind": "sensor", "id": source}, rule={"id": "drill", "kind": "drill", "severity": severity},
        started_at=ts, observed_at=ts, emitted_at=ts, location={"lat": lat, "lon": lon, "zone": zone},
        evidence={"drill": True, "started_by": actor}, drill=True,
    )
    incident_id = engine.handle_alert(alert)
    with engine._tx() as (s, _):
        s.add(AuditRow(at=now, actor=actor, origin=origin, action="drill.start", target=f"incident:{incident_id}",
                       detail={"lat": lat, "lon": lon, "severity": severity, "alert_id": alert.alert_id}))
    return {"incident_id": incident_id, "alert_id": alert.alert_id, "drill": True}


def _first(events: list[OrderEventRow], order_id: int, state: str) -> float | None:
    return next((e.at for e in events if e.order_id == order_id and e.new_state == state), None)


def loop_times(engine: DispatchEngine, incident_id: int) -> dict[str, Any]:
    """Seconds from the drill alert to each order's creation, delivery, acknowledge and arrival."""
    with engine.sessions() as s:
        inc = s.get(IncidentRow, incident_id)
        if inc is None or not inc.drill:
            raise NotADrill(f"incident {incident_id} is not a drill")
        events = list(s.scalars(select(OrderEventRow).where(OrderEventRow.incident_id == incident_id)
                                .order_by(OrderEventRow.id)))
        orders = list(s.scalars(select(OrderRow).where(OrderRow.incident_id == incident_id).order_by(OrderRow.id)))

    def since(t: float | None) -> float | None:
        return None if t is None else round(t - inc.opened_at, 3)

    rows = [{
        "order_id": o.id, "responder_id": o.responder_id, "tier": o.tier, "state": o.state, "eta_s": o.eta_s,
        "ordered_s": since(o.created_at), "notified_s": since(_first(events, o.id, "notified")),
        "acknowledged_s": since(o.acknowledged_at), "on_scene_s": since(o.on_scene_at),
        "target_s": since(o.arrival_deadline_at),
    } for o in orders]
    tiers: dict[str, Any] = {}
    for r in rows:
        t = tiers.setdefault(str(r["tier"]), {"first_acknowledged_s": None, "first_on_scene_s": None})
        for key, src in (("first_acknowledged_s", "acknowledged_s"), ("first_on_scene_s", "on_scene_s")):
            if r[src] is not None and (t[key] is None or r[src] < t[key]):
                t[key] = r[src]
    return {"incident_id": incident_id, "drill": True, "status": inc.status, "opened_at": inc.opened_at,
            "orders": rows, "tiers": tiers, "alarms": [e.detail for e in events if e.kind == "alarm"]}
