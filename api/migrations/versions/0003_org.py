"""Organisation hierarchy: responders and incidents belong to a node (configs/org.yaml).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responders") as b:
        b.add_column(sa.Column("node", sa.String(64)))
    with op.batch_alter_table("incidents") as b:
        b.add_column(sa.Column("node", sa.String(64)))
    op.create_index("ix_incidents_node", "incidents", ["node"])


def downgrade() -> None:
    op.drop_index("ix_incidents_node", "incidents")
    with op.batch_alter_table("incidents") as b:
        b.drop_column("node")
    with op.batch_alter_table("responders") as b:
        b.drop_column("node")
