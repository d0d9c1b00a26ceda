"""Tables of the store. Times are epoch seconds (float) from the injected clock, so simulated time
in tests and wall time in production go through the same columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AlertRow(Base):
    __tablename__ = "alerts"
    # alert_id is deterministic (alerts.model.make_alert_id): the primary key makes redelivery a no-op.
    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(128))
    zone: Mapped[str | None] = mapped_column(String(128))
    rule_id: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    observed_at: Mapped[float] = mapped_column(Double)
    received_at: Mapped[float] = mapped_column(Double, index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentRow(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(128))
    zone: Mapped[str | None] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved | stood_down
    opened_at: Mapped[float] = mapped_column(Double)  # clock time of the first alert: reports start here
    last_observed_at: Mapped[float] = mapped_column(Double)  # alert time, for grouping
    alert_count: Mapped[int] = mapped_column(Integer, default=1)
    closed_at: Mapped[float | None] = mapped_column(Double)
    # A drill runs through the same engine; the flag follows it into views, pushes and reports.
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    node: Mapped[str | None] = mapped_column(String(64), index=True)  # org node of the alert's site

    __table_args__ = (Index("ix_incidents_group", "source_id", "zone", "status"),)


class OrderRow(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    responder_id: Mapped[str] = mapped_column(String(64), index=True)
    tier: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    ack_deadline_at: Mapped[float] = mapped_column(Double)
    arrival_deadline_at: Mapped[float] = mapped_column(Double)
    eta_s: Mapped[float | None] = mapped_column(Double)
    distance_m: Mapped[float | None] = mapped_column(Double)
    position_source: Mapped[str | None] = mapped_column(String(16))  # live | post
    acknowledged_at: Mapped[float | None] = mapped_column(Double)
    on_scene_at: Mapped[float | None] = mapped_column(Double)
    resolved_at: Mapped[float | None] = mapped_column(Double)


class OrderEventRow(Base):
    """Append-only audit: who changed what, when and from where. Never updated or deleted."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # state | alarm | escalation
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(String(128))  # client address, or "dispatcher" / "tick"
    old_state: Mapped[str | None] = mapped_column(String(16))
    new_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ResponderRow(Base):
    __tablename__ = "responders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    tier: Mapped[int] = mapped_column(Integer)
    speed_mps: Mapped[float] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16))
    post_lat: Mapped[float | None] = mapped_column(Double)
    post_lon: Mapped[float | None] = mapped_column(Double)
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    position_at: Mapped[float | None] = mapped_column(Double)
    status_at: Mapped[float | None] = mapped_column(Double)
    node: Mapped[str | None] = mapped_column(String(64))  # org node the unit belongs to


class AuditRow(Base):
    """Append-only record of changes that are not order transitions (unit status, operator actions)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Double, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DeliveryRow(Base):
    """A delivery receipt: an order event handed to a push channel and what the channel said."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # sse | mqtt | webhook
    target: Mapped[str] = mapped_column(String(256))  # unit stream, topic, or gateway URL
    status: Mapped[str] = mapped_column(String(16))  # delivered | failed
    at: Mapped[float] = mapped_column(Double)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UserRow(Base):
    """A console/API user who logs in with a password (`POST /api/auth/token`) and gets a JWT.

    Only an Argon2 hash of the password is kept. `unit` is the responder id a `unit` user acts
    for; `node` the org node whose incidents the user sees (api.org). Disabled users cannot log
    in, and their tokens stop working on the next request (api.auth looks the user up each time).
    """

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(64))
    node: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[float] = mapped_column(Double)
    last_login_at: Mapped[float | None] = mapped_column(Double)
