"""Reports page extras: alert counts per rule and per camera (logic in `api.console_reports`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from api import console_reports
from api.auth import Principal, require
from api.deps import EpochS, get_session, visible_nodes

router = APIRouter(prefix="/api/console/reports", tags=["console"])


@router.get("/alert-counts")
def alert_counts(request: Request, since: EpochS = None, until: EpochS = None, drills: bool = False,
                 s: Session = Depends(get_session), who: Principal = Depends(require("operator", "engineer"))) -> dict:
    """Alerts per rule and per camera with a severity split, received in [since, until)."""
    return console_reports.alert_counts(s, since, until, visible_nodes(request, who.node), drills)
