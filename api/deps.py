"""FastAPI dependencies: the objects `create_app` puts on `app.state`, injected into routes."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
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
