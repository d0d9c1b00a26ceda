"""The api's store: SQLAlchemy 2 models, a session factory, and alembic migrations run at startup."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.store.guard import AppendOnlyViolation, install_append_only_guard
from api.store.models import (
    AlertRow, AuditRow, Base, DeliveryRow, IncidentRow, OrderEventRow, OrderRow, ResponderRow,
)

__all__ = [
    "AlertRow", "AppendOnlyViolation", "AuditRow", "Base", "DeliveryRow", "IncidentRow", "OrderEventRow",
    "OrderRow", "ResponderRow", "make_engine", "make_session_factory", "migrate",
]

_PKG = Path(__file__).resolve().parent.parent


def make_engine(db_url: str) -> Engine:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # The dispatcher thread and request threads share the file: wait for locks instead of failing.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(db_url_or_engine: str | Engine) -> sessionmaker[Session]:
    engine = make_engine(db_url_or_engine) if isinstance(db_url_or_engine, str) else db_url_or_engine
    factory = sessionmaker(engine, expire_on_commit=False)
    install_append_only_guard(factory)
    return factory


def migrate(db_url: str) -> None:
    """Bring the database to the newest revision (creates it from empty)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(_PKG / "alembic.ini"))
    cfg.set_main_option("script_location", str(_PKG / "migrations"))
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Several API instances may start together; one migrates, the others wait for it.
                conn.execute(text("SELECT pg_advisory_xact_lock(7418001)"))
            # Passed as an attribute, not an ini option: ini interpolation would mangle '%' in passwords.
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
