"""The small operator console: static files, no build step.

These are the only unauthenticated paths besides /healthz: they hold no data, and the page asks
for the token itself (a browser navigation cannot carry a bearer header).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/app.js")
def app_js() -> FileResponse:
    return FileResponse(STATIC / "app.js", media_type="text/javascript")
