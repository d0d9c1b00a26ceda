"""Alembic environment: uses the connection handed over by `api.store.migrate`, or `-x db_url=`."""

from __future__ import annotations

from alembic import context

from api.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from api.store import make_engine

    db_url = context.get_x_argument(as_dictionary=True).get("db_url", "sqlite:///var/lookout.db")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
