"""The dispatch engine: alerts → incidents → orders, deadlines, and every state change audited.

All state lives in the store; the engine keeps none between calls, so a restarted API (or another
instance sharing PostgreSQL) picks up pending deadlines on its next `tick()`.
Side effects (push, bus) happen only after the database commit: a unit never receives an order
that was rolled back. At-least-once: a crash between commit and push is repaired when the unit's
stream reconnects and is sent every open order.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from alerts.bus import BusError, Producer
from alerts.model import DISPATCH_EVENTS_TOPIC, Alert
from api.config import ApiConfig, DispatchFile, Policy, Responder
from api.dispatch import incidents, selection
from api.dispatch.responder_index import ResponderIndex
from api.dispatch.states import ACTIONS, AWAITING_ACK, AWAITING_ARRIVAL, OPEN, OrderState, check
from api.dispatch.views import alert_view, event_view, incident_view, order_view
from api.org import Org
from api.store.models import AlertRow, IncidentRow, OrderEventRow, OrderRow, ResponderRow

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Push = Callable[[dict[str, Any]], None]
SYSTEM = "system"


class OrderNotFound(LookupError):
    pass


class NotYourOrder(PermissionError):
    pass


class UnknownResponder(LookupError):
    pass


class DispatchEngine:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        config: ApiConfig | DispatchFile,
        clock: Clock = time.time,
        push: Push | None = None,
        producer: Producer | None = None,
    ):
        self.sessions = session_factory
        self.config: DispatchFile = config.dispatch if isinstance(config, ApiConfig) else config
        self.org = Org(config.org) if isinstance(config, ApiConfig) else Org()
        self.clock = clock
        self.push = push
        self.producer = producer
        # One writer at a time in this process: SQLite cannot upgrade a read snapshot to a write
        # under WAL, and order rows must not be moved by the tick and a unit at the same moment.
        # Across processes (PostgreSQL) the row lock in `_lock_order` does the same job.
        self._lock = threading.RLock()
        # A tier's units as arrays in memory instead of a candidate query per decision.
        self.index = ResponderIndex(session_factory, refresh_s=self.config.index_refresh_s)

    # ---- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[tuple[Session, list[dict[str, Any]]]]:
        """A write transaction; the events it collects are pushed/published only after commit."""
        out: list[dict[str, Any]] = []
        with self._lock:
            with self.sessions() as s, s.begin():
                yield s, out
                self._mark_drills(s, out)
            self._emit(out)

    @staticmethod
    def _mark_drills(s: Session, out: list[dict[str, Any]]) -> None:
        """Every event of a drill incident says so at the top level: no unit or console may mistake it."""
        for ev in out:
            iid = ev.get("incident_id")
            inc = s.get(IncidentRow, iid) if iid is not None else None
            if inc is not None:
                ev["node"] = inc.node  # push scopes operator streams by org node (api.push)
            if inc is not None and inc.drill:
                ev["drill"] = True

    def _emit(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            if self.push is not None:
                try:
                    self.push(ev)
                except Exception:  # a broken subscriber must not undo a committed dispatch
                    log.exception("push failed for %s", ev.get("type"))
        if self.producer is not None and events:
            try:
                for ev in events:
                    key = str(ev.get("incident_id", "")).encode() or None
                    self.producer.send(DISPATCH_EVENTS_TOPIC, json.dumps(ev).encode(), key=key)
                self.producer.flush(timeout=5)
            except BusError as exc:
                # The store is the record; the topic is a feed. Log and go on rather than block dispatch.
                log.warning("dispatch events not published: %s", exc)

    def _audit(
        self, s: Session, out: list, *, incident_id: int, order: OrderRow | None, kind: str,
        actor: str, origin: str, old: str | None, new: str | None, detail: dict | None = None,
    ) -> OrderEventRow:
        ev = OrderEventRow(
            order_id=order.id if order else None, incident_id=incident_id, kind=kind, at=self.clock(),
            actor=actor, origin=origin, old_state=old, new_state=new, detail=detail or {},
        )
        s.add(ev)
        s.flush()
        msg: dict[str, Any] = {"type": "order" if kind == "state" else kind, "incident_id": incident_id,
                               "event": event_view(ev)}
        if order is not None:
            msg["order"] = order_view(order, s.get(IncidentRow, incident_id))
        out.append(msg)
        return ev

    def _policy(self, severity: str) -> Policy | None:
        return self.config.policies.get(severity)  # type: ignore[call-overload]

    # ---- responders -------------------------------------------------------------------------

    def upsert_responders(self, responders: list[Responder]) -> None:
        """Config is the source of identity; live position stays when a unit is already known."""
        with self._tx() as (s, _):
            for r in responders:
                row = s.get(ResponderRow, r.id)
                if row is None:
                    # The file's status is the initial one; later changes (REST, MQTT) survive restarts.
                    row = ResponderRow(id=r.id, status=r.status)
                row.name, row.type, row.tier, row.speed_mps = r.name, r.type, int(r.tier), float(r.speed_mps)  # type: ignore[arg-type]
                row.node = r.node
                row.post_lat, row.post_lon = (r.post.lat, r.post.lon) if r.post else (None, None)
                if r.position is not None and row.position_at is None:
                    row.lat, row.lon, row.position_at = r.position.lat, r.position.lon, self.clock()
                s.add(row)

    def update_position(self, responder_id: str, lat: float, lon: float) -> dict[str, Any]:
        with self._tx() as (s, out):
            row = s.get(ResponderRow, responder_id)
            if row is None:
                raise UnknownResponder(f"responder {responder_id!r} is not configured")
            row.lat, row.lon, row.position_at = lat, lon, self.clock()
            view = {"id": row.id, "lat": lat, "lon": lon, "position_at": row.position_at}
            out.append({"type": "position", "responder": view})
            return view

    # ---- alerts -----------------------------------------------------------------------------

    def handle_alert(self, alert: Alert) -> int | None:
        """Record the alert and dispatch; returns the incident id, or None for a duplicate.

        Lifecycle follow-ups (update / end, same alert_id) refresh the stored alert instead."""
        try:
            with self._tx() as (s, out):
                known = s.get(AlertRow, alert.alert_id)
                if known is not None:
                    return incidents.follow_up(s, known, alert, out)
                now, observed = self.clock(), alert.observed_at.timestamp()
                inc = incidents.group(s, alert, observed, now, out, window_s=self.config.incident_window_s,
                                      node=self.org.node_of_site(alert.site))
                row = AlertRow(
                    alert_id=alert.alert_id, site=alert.site, source_id=alert.source.id,
                    zone=alert.location.zone, rule_id=alert.rule.id, severity=alert.rule.severity,
                    observed_at=observed, received_at=now, incident_id=inc.id,
                    payload=json.loads(alert.model_dump_json()),
                )
                s.add(row)
                s.flush()  # a concurrent instance inserting the same alert fails here
                out.insert(0, {"type": "alert", "incident_id": inc.id, "alert": alert_view(row)})
                self._dispatch_missing_tiers(s, inc, out)
                return inc.id
        except IntegrityError:
            return None  # another consumer recorded it first: same outcome as a duplicate

    # ---- orders -----------------------------------------------------------------------------

    def _busy_ids(self, s: Session) -> set[str]:
        return set(s.scalars(select(OrderRow.responder_id).where(OrderRow.state.in_([str(x) for x in OPEN]))))

    def _dispatch_missing_tiers(self, s: Session, inc: IncidentRow, out: list) -> None:
        policy = self._policy(inc.severity)
        if policy is None:
            return
        orders = list(s.scalars(select(OrderRow).where(OrderRow.incident_id == inc.id)))
        for tier in policy.tiers:
            live = [o for o in orders if o.tier == tier and o.state in OPEN]
            if not live:
                self._order_candidates(s, inc, policy, tier, policy.units_per_tier, out, reason="alert")

    def _order_candidates(
        self, s: Session, inc: IncidentRow, policy: Policy, tier: int, n: int, out: list, reason: str
    ) -> list[OrderRow]:
        now = self.clock()
        exclude = set(s.scalars(select(OrderRow.responder_id).where(OrderRow.incident_id == inc.id)))
        exclude |= self._busy_ids(s)
        scopes, picks = self.org.scopes(inc.node), []
        for level, (node, nodes) in enumerate(scopes):
            # The tier's units from the in-memory index (api.dispatch.responder_index), not a query.
            picks = selection.select(
                self.index.units(tier, nodes), n, tier=tier,
                target=(inc.lat, inc.lon) if inc.lat is not None and inc.lon is not None else None,
                now=now, detour_factor=self.config.detour_factor, stale_s=self.config.position_stale_s,
                exclude=exclude, roads=self.config.road_graph)
            deadline = policy.arrival_deadline_s.get(tier)
            if level + 1 == len(scopes) or (picks and (deadline is None or picks[0].eta.seconds <= deadline)):
                break
            # The node cannot meet this tier: one level up, and the command room hears of it.
            self._audit(s, out, incident_id=inc.id, order=None, kind="alarm", actor=SYSTEM, origin="dispatcher",
                        old=None, new=None, detail={"reason": f"tier {tier} cannot be met at {node}; escalated to "
                                                              f"{scopes[level + 1][0]}", "tier": tier})
        if not picks:
            why = (f"no available tier {tier} responder" if inc.lat is not None
                   else f"incident has no location; cannot estimate tier {tier} ETAs")
            self._audit(s, out, incident_id=inc.id, order=None, kind="alarm", actor=SYSTEM, origin="dispatcher",
                        old=None, new=None, detail={"reason": why, "tier": tier})
            return []
        return [self._make_order(s, out, inc, policy, tier, c, reason) for c in picks]

    def _make_order(self, s: Session, out: list, inc: IncidentRow, policy: Policy, tier: int,
                    c: selection.Candidate, reason: str, actor: str = SYSTEM, origin: str = "dispatcher") -> OrderRow:
        now = self.clock()
        o = OrderRow(
            incident_id=inc.id, responder_id=c.responder_id, tier=tier, state=OrderState.pending.value,
            created_at=now, updated_at=now, ack_deadline_at=now + policy.ack_deadline_s,
            # Each order gets the full tier budget from its creation; a replacement is already
            # late against the incident, which the reports (measured from opened_at) show.
            arrival_deadline_at=now + policy.arrival_deadline_s.get(tier, policy.ack_deadline_s),
            eta_s=c.eta.seconds, distance_m=c.eta.distance_m, position_source=c.eta.source,
        )
        s.add(o)
        s.flush()
        self._audit(s, out, incident_id=inc.id, order=o, kind="state", actor=actor, origin=origin,
                    old=None, new=o.state, detail={"reason": reason, "eta_s": c.eta.seconds})
        return o

    def _lock_order(self, s: Session, order_id: int) -> OrderRow:
        o = s.scalars(select(OrderRow).where(OrderRow.id == order_id).with_for_update()).first()
        if o is None:
            raise OrderNotFound(f"order {order_id} not found")
        return o

    def _move(self, s: Session, out: list, o: OrderRow, new: OrderState, actor: str, origin: str,
              kind: str = "state", detail: dict | None = None) -> None:
        check(o.id, o.state, new)
        old, now = o.state, self.clock()
        o.state, o.updated_at = new.value, now
        if new is OrderState.acknowledged:
            o.acknowledged_at = now
        elif new is OrderState.on_scene:
            o.on_scene_at = now
        elif new is OrderState.resolved:
            o.resolved_at = now
        s.flush()
        self._audit(s, out, incident_id=o.incident_id, order=o, kind=kind, actor=actor, origin=origin,
                    old=old, new=new.value, detail=detail)

    def act(self, order_id: int, action: str, *, actor: str, origin: str, unit: str | None = None,
            note: str | None = None) -> dict[str, Any]:
        """Apply a unit's or operator's action. `unit` set: only that responder's own order.
        `note` (e.g. how an incident was resolved) goes into the audit entry of the change."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        with self._tx() as (s, out):
            o = self._lock_order(s, order_id)
            if unit is not None and o.responder_id != unit:
                raise NotYourOrder(f"order {order_id} belongs to another unit")
            new = ACTIONS[action]
            if new is OrderState.on_scene and o.state in (OrderState.pending, OrderState.notified):
                # A unit that arrives before tapping "acknowledge" has clearly acknowledged.
                self._move(s, out, o, OrderState.acknowledged, actor, origin)
            self._move(s, out, o, new, actor, origin, detail={"note": note} if note else None)
            inc = s.get(IncidentRow, o.incident_id)
            if new is OrderState.declined:
                self._replace(s, out, inc, o, reason="declined")
            elif new is OrderState.resolved:
                self._resolve_incident(s, out, inc, actor, origin)
            return order_view(o, inc)

    def mark_notified(self, order_id: int) -> None:
        """The unit's stream delivered the order: pending → notified (no-op otherwise)."""
        with self._tx() as (s, out):
            o = s.get(OrderRow, order_id)
            if o is not None and o.state == OrderState.pending.value:
                self._move(s, out, o, OrderState.notified, SYSTEM, "push")

    def _resolve_incident(self, s: Session, out: list, inc: IncidentRow, actor: str, origin: str) -> None:
        inc.status, inc.closed_at = "resolved", self.clock()
        for other in s.scalars(select(OrderRow).where(OrderRow.incident_id == inc.id)):
            if other.state in OPEN:
                self._move(s, out, other, OrderState.cancelled, actor, origin, detail={"reason": "incident resolved"})
        out.append({"type": "incident", "incident_id": inc.id, "incident": incident_view(inc)})

    def _replace(self, s: Session, out: list, inc: IncidentRow, o: OrderRow, reason: str) -> None:
        policy = self._policy(inc.severity)
        if policy is not None and inc.status == "open":
            self._order_candidates(s, inc, policy, o.tier, 1, out, reason=reason)

    # ---- deadlines --------------------------------------------------------------------------

    def tick(self) -> int:
        """Handle every passed deadline; returns how many orders changed. Safe to call from any
        instance at any rate: each order is re-checked under its row lock."""
        now, changed = self.clock(), 0
        with self.sessions() as s:
            due = list(s.execute(
                select(OrderRow.id).where(
                    (OrderRow.state.in_([x.value for x in AWAITING_ACK]) & (OrderRow.ack_deadline_at <= now))
                    | (OrderRow.state.in_([x.value for x in AWAITING_ARRIVAL]) & (OrderRow.arrival_deadline_at <= now))
                ).order_by(OrderRow.id)
            ).scalars())
        for order_id in due:
            with self._tx() as (s, out):
                o = self._lock_order(s, order_id)
                inc = s.get(IncidentRow, o.incident_id)
                if o.state in AWAITING_ACK and o.ack_deadline_at <= now:
                    self._move(s, out, o, OrderState.expired, SYSTEM, "tick", detail={"reason": "no acknowledge"})
                    why = "missed acknowledge deadline"
                elif o.state in AWAITING_ARRIVAL and o.arrival_deadline_at <= now:
                    self._move(s, out, o, OrderState.escalated, SYSTEM, "tick", detail={"reason": "not on scene"})
                    why = "missed arrival deadline"
                else:
                    continue  # someone acted on it meanwhile
                self._audit(s, out, incident_id=inc.id, order=o, kind="alarm", actor=SYSTEM, origin="tick",
                            old=None, new=None, detail={"reason": why, "responder_id": o.responder_id, "tier": o.tier})
                self._replace(s, out, inc, o, reason=why)
                changed += 1
        return changed

    # ---- reads ------------------------------------------------------------------------------

    def open_orders(self, responder_id: str) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.execute(
                select(OrderRow, IncidentRow).join(IncidentRow, IncidentRow.id == OrderRow.incident_id)
                .where(OrderRow.responder_id == responder_id, OrderRow.state.in_([x.value for x in OPEN]))
                .order_by(OrderRow.id)
            ).all()
            return [order_view(o, i) for o, i in rows]

    def count(self, model: type) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(model)) or 0
