"""JSON shapes of store rows, shared by pushes, bus events and REST responses."""

from __future__ import annotations

from typing import Any

from api.store.models import AlertRow, AuditRow, DeliveryRow, IncidentRow, OrderEventRow, OrderRow, ResponderRow


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
        out.update(lat=inc.lat, lon=inc.lon, zone=inc.zone, severity=inc.severity, source_id=inc.source_id,
                   drill=bool(inc.drill))
    return out


def incident_view(i: IncidentRow) -> dict[str, Any]:
    return {
        "id": i.id, "source_id": i.source_id, "zone": i.zone, "severity": i.severity, "lat": i.lat,
        "lon": i.lon, "status": i.status, "opened_at": i.opened_at, "last_observed_at": i.last_observed_at,
        "alert_count": i.alert_count, "closed_at": i.closed_at, "drill": bool(i.drill),
        "node": i.node,
    }


def alert_view(a: AlertRow, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "alert_id": a.alert_id, "site": a.site, "source_id": a.source_id, "zone": a.zone,
        "rule_id": a.rule_id, "severity": a.severity, "observed_at": a.observed_at,
        "received_at": a.received_at, "incident_id": a.incident_id,
        "snapshot_url": f"/api/alerts/{a.alert_id}/snapshot" if a.payload.get("snapshot") else None,
        "clip_url": f"/api/alerts/{a.alert_id}/clip" if a.payload.get("clip") else None,
        # start / update / end of the same alert (Alert v1 lifecycle); absent in old payloads
        "lifecycle": a.payload.get("lifecycle", "start"), "sequence": a.payload.get("sequence", 0),
        "ended_at": a.payload.get("ended_at"),
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


def responder_view(r: ResponderRow, now: float, stale_s: float) -> dict[str, Any]:
    """`position_stale`: no live position, or older than `position_stale_s` (ETA then uses the post)."""
    stale = r.position_at is None or now - r.position_at > stale_s
    return {
        "id": r.id, "name": r.name, "type": r.type, "tier": r.tier, "speed_mps": r.speed_mps,
        "status": r.status, "status_at": r.status_at, "post_lat": r.post_lat, "post_lon": r.post_lon,
        "lat": r.lat, "lon": r.lon, "position_at": r.position_at, "position_stale": stale, "node": r.node,
    }


def audit_view(a: AuditRow) -> dict[str, Any]:
    return {"id": a.id, "at": a.at, "actor": a.actor, "origin": a.origin, "action": a.action,
            "target": a.target, "detail": a.detail}


def delivery_view(d: DeliveryRow) -> dict[str, Any]:
    return {"id": d.id, "order_id": d.order_id, "event_id": d.event_id, "channel": d.channel,
            "target": d.target, "status": d.status, "at": d.at, "detail": d.detail}
