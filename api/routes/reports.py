from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api import reports
from api.auth import require
from api.deps import get_session

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/response-times")
def response_times(since: float | None = None, until: float | None = None, s: Session = Depends(get_session),
                   _=Depends(require("operator", "engineer"))) -> dict:
    """Per tier: count, median/p90 seconds alert→ack and alert→on-scene, share within 60/180/300 s."""
    return reports.response_times(s, since, until)
