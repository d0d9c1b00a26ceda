"""The web console's static files: pages and plain ES modules, no build step.

These are the only unauthenticated paths besides /healthz: they hold no data, and each page asks
for the token itself (a browser navigation cannot carry a bearer header). Every data call the
pages make goes to an authenticated /api route.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = ("index.html", "unit.html", "fences.html", "patrol.html", "reports.html")
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
         ".png": "image/png", ".json": "application/json"}
router = APIRouter(include_in_schema=False)


def _file(rel: str) -> FileResponse:
    path = (STATIC / rel).resolve()
    # Only files inside static/, with a known type: no directory listing, no path escapes.
    if not path.is_relative_to(STATIC) or not path.is_file() or path.suffix not in TYPES:
        raise HTTPException(404, "not found")
    # no-cache: the pages change with the API they talk to; revalidation is cheap on loopback/LAN.
    return FileResponse(path, media_type=TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


@router.get("/")
def index() -> FileResponse:
    return _file("index.html")


@router.get("/{page}.html")
def page(page: str) -> FileResponse:
    if f"{page}.html" not in PAGES:
        raise HTTPException(404, "not found")
    return _file(f"{page}.html")


@router.get("/static/{rel:path}")
def static(rel: str) -> FileResponse:
    return _file(rel)
