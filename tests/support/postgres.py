"""A fresh, uniquely named PostgreSQL database per use, dropped afterwards.

The CI machine runs PostgreSQL at 127.0.0.1:5432 with trust auth (TESTING.md). Tests skip with a
clear reason only when no server answers there.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

HOST = os.environ.get("LOOKOUT_TEST_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("LOOKOUT_TEST_PG_PORT", "5432"))
USERS = ("postgres", "root")


def _admin_connect():
    import psycopg2

    errors = []
    for user in USERS:
        for dbname in ("postgres", "test", user):
            try:
                conn = psycopg2.connect(host=HOST, port=PORT, user=user, dbname=dbname, connect_timeout=3)
                conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
                return conn, user
            except psycopg2.OperationalError as exc:
                errors.append(f"{user}@{dbname}: {str(exc).strip().splitlines()[0]}")
    return None, "; ".join(errors)


@contextlib.contextmanager
def fresh_database(prefix: str = "lookout_test") -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new empty database; drop it on exit."""
    import pytest

    conn, user_or_reason = _admin_connect()
    if conn is None:
        pytest.skip(f"no PostgreSQL server answers at {HOST}:{PORT} ({user_or_reason})")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+psycopg2://{user_or_reason}@{HOST}:{PORT}/{name}"
    finally:
        with conn.cursor() as cur:
            # WITH (FORCE) ends sessions a leaked pool may still hold (PostgreSQL 13+).
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
