"""JSON shapes of store rows, shared by pushes, bus events and REST responses."""

from __future__ import annotations

from typing import Any

from api.store.models import AlertRow, IncidentRow, OrderEventRow, OrderRow


def order_view(o: OrderRow, inc: IncidentRow | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": o.id, "incident_id": o.incident_id, "responder_id": o.responder_id, "tier": o.tier,
        "state": o.state, "created_at": o.created_at, "updated_at": o.updated_at,
        "ack_deadline_at": o.ack_deadline_at, "arrival_deadline_at": o.arrival_deadline_at,
        "eta_s": o.eta_s, "distance_m": o.distance_m, "position_source": o.position_source,
        "acknowledged_at": o.acknowledged_at, "on_scene_at": o.on_scene_at, "resolved_at": o.resolved_at,
    }
    if inc is not None:
        # Where to go and why: a unit should not need a second request to act on an order.
        out.update(lat=inc.lat, lon=inc.lon, zone=inc.zone, severity=inc.severity, source_id=inc.source_id)
    return out


def incident_view(i: IncidentRow) -> dict[str, Any]:
    return {
        "id": i.id, "source_id": i.source_id, "zone": i.zone, "severity": i.severity, "lat": i.lat,
        "lon": i.lon, "status": i.status, "opened_at": i.opened_at, "last_observed_at": i.last_observed_at,
        "alert_count": i.alert_count, "closed_at": i.closed_at,
    }


def alert_view(a: AlertRow, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "alert_id": a.alert_id, "site": a.site, "source_id": a.source_id, "zone": a.zone,
        "rule_id": a.rule_id, "severity": a.severity, "observed_at": a.observed_at,
        "received_at": a.received_at, "incident_id": a.incident_id,
        "snapshot_url": f"/api/alerts/{a.alert_id}/snapshot" if a.payload.get("snapshot") else None,
    }
    if full:
        out["payload"] = a.payload
    return out


def event_view(e: OrderEventRow) -> dict[str, Any]:
    return {
        "id": e.id, "order_id": e.order_id, "incident_id": e.incident_id, "kind": e.kind, "at": e.at,
        "actor": e.actor, "origin": e.origin, "old_state": e.old_state, "new_state": e.new_state,
        "detail": e.detail,
    }
