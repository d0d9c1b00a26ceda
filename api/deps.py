"""FastAPI dependencies: the objects `create_app` puts on `app.state`, injected into routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Path, Query, Request
from sqlalchemy.orm import Session

from api.dispatch.engine import DispatchEngine
from api.push import PushHub
from api.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> DispatchEngine:
    return request.app.state.engine


def get_hub(request: Request) -> PushHub:
    return request.app.state.hub


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as s:
        yield s


def client_origin(request: Request) -> str:
    """"From where" in the audit trail: the peer address (a proxy's, behind one)."""
    return request.client.host if request.client else "unknown"


# Row ids are int4 on PostgreSQL: larger numbers would be a database error (500), not a 404.
MAX_ID = 2_147_483_647
OrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="Order id")]
IncidentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Incident id")]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many rows")]
# Epoch seconds; bounded so NaN/inf or absurd values are a 422, never a database error.
EpochS = Annotated[float | None, Query(ge=0, le=1e11, allow_inf_nan=False, description="Epoch seconds")]


def visible_nodes(request: Request, node: str | None) -> set[str] | None:
    """Org nodes whose incidents a user of `node` sees (None: all; see api.org)."""
    return request.app.state.engine.org.visible(node)
