"""Operations: audit log, delivery receipts, drill flag; the audit tables become append-only.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("order_events", "audit_log")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("origin", sa.String(128), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("event_id", sa.Integer),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_deliveries_order_id", "deliveries", ["order_id"])
    with op.batch_alter_table("incidents") as b:
        b.add_column(sa.Column("drill", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("responders") as b:
        b.add_column(sa.Column("status_at", sa.Double))
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            # The database itself refuses: raw SQL and other clients cannot rewrite the audit either.
            op.execute(f"""
                CREATE OR REPLACE FUNCTION lookout_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'append-only: % on % refused', TG_OP, TG_TABLE_NAME; END;
                $$ LANGUAGE plpgsql""")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION lookout_append_only()")
        elif dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, 'append-only: {verb} on {table} refused'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif dialect == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lookout_append_only()")
    with op.batch_alter_table("responders") as b:
        b.drop_column("status_at")
    with op.batch_alter_table("incidents") as b:
        b.drop_column("drill")
    op.drop_table("deliveries")
    op.drop_table("audit_log")
