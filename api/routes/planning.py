"""Planning reads for the command room: where a new duty post would close the largest coverage gap.
Logic in `api.coverage`; this module only parses the query and finds the cameras."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api import coverage
from api.auth import Principal, require
from api.deps import get_session, get_settings, visible_nodes
from api.routes import console_sitecfg
from api.settings import Settings

router = APIRouter(prefix="/api/coverage", tags=["reports"])


@router.get("/suggestions")
async def suggestions(
    request: Request,
    tier: Annotated[int, Query(ge=1, le=3, description="Tier whose deadline the new posts must meet")] = 1,
    count: Annotated[int, Query(ge=1, le=20, description="How many new posts to place (greedy, best first)")] = 1,
    grid: Annotated[int, Query(ge=2, le=60, description="Candidate grid per side when no candidate_posts "
                                                        "are configured")] = coverage.GRID,
    s: Session = Depends(get_session), settings: Settings = Depends(get_settings),
    who: Principal = Depends(require("operator", "engineer")),
) -> dict:
    """Places (points of interest, cameras, alert locations) no post of `tier` reaches in time, and
    the `count` sites (configured `candidate_posts`, else a grid over the places) that would bring the
    most of them within the deadline, each with the places it newly covers."""
    cameras = console_sitecfg.cameras(settings.config_dir)
    return await run_in_threadpool(coverage.suggestions, s, request.app.state.engine.config, tier, count,
                                   cameras, grid, visible_nodes(request, who.node))
