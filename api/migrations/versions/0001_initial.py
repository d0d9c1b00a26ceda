"""Initial store: alerts, incidents, orders, order_events, responders.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("zone", sa.String(128)),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("lat", sa.Double),
        sa.Column("lon", sa.Double),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.Double, nullable=False),
        sa.Column("last_observed_at", sa.Double, nullable=False),
        sa.Column("alert_count", sa.Integer, nullable=False),
        sa.Column("closed_at", sa.Double),
    )
    op.create_index("ix_incidents_group", "incidents", ["source_id", "zone", "status"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("zone", sa.String(128)),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("observed_at", sa.Double, nullable=False),
        sa.Column("received_at", sa.Double, nullable=False),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id")),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    op.create_index("ix_alerts_received_at", "alerts", ["received_at"])
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("responder_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("ack_deadline_at", sa.Double, nullable=False),
        sa.Column("arrival_deadline_at", sa.Double, nullable=False),
        sa.Column("eta_s", sa.Double),
        sa.Column("distance_m", sa.Double),
        sa.Column("position_source", sa.String(16)),
        sa.Column("acknowledged_at", sa.Double),
        sa.Column("on_scene_at", sa.Double),
        sa.Column("resolved_at", sa.Double),
    )
    op.create_index("ix_orders_incident_id", "orders", ["incident_id"])
    op.create_index("ix_orders_responder_id", "orders", ["responder_id"])
    op.create_index("ix_orders_state", "orders", ["state"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id")),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("origin", sa.String(128), nullable=False),
        sa.Column("old_state", sa.String(16)),
        sa.Column("new_state", sa.String(16)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"])
    op.create_index("ix_order_events_incident_id", "order_events", ["incident_id"])
    op.create_table(
        "responders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("speed_mps", sa.Double, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("post_lat", sa.Double),
        sa.Column("post_lon", sa.Double),
        sa.Column("lat", sa.Double),
        sa.Column("lon", sa.Double),
        sa.Column("position_at", sa.Double),
    )


def downgrade() -> None:
    for name in ("responders", "order_events", "orders", "alerts", "incidents"):
        op.drop_table(name)
