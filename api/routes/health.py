from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter()


@router.get("/healthz", tags=["health"])
def healthz(request: Request) -> dict:
    """Liveness, unauthenticated: process up and whether the dispatcher thread runs."""
    d = getattr(request.app.state, "dispatcher", None)
    return {"status": "ok", "dispatcher": bool(d and d.is_alive())}
