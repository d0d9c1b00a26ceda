from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session

from api import coverage, report_breakdown, reports
from api.auth import Principal, require
from api.deps import EpochS, get_session, visible_nodes

# Every report counts only the incidents of the caller's org node and below (api.org): a station
# sees its own, a county its stations rolled up, the city (or a user without a node) everything.
router = APIRouter(prefix="/api/reports", tags=["reports"])
READERS = ("operator", "engineer")
By = Annotated[Literal["tier", "unit", "zone", "node", "day", "week", "month"],
               Query(description="Group by tier, unit, zone (area), org node (rolled up), or period")]
Tz = Annotated[str, Query(max_length=64, description="IANA time zone for day/week/month buckets")]
Drills = Annotated[bool, Query(description="Include drill incidents (left out by default)")]


def _tz(tz: str) -> str:
    if tz not in available_timezones() and tz != "UTC":
        raise HTTPException(422, f"unknown time zone {tz!r}")
    return tz


def _scope(request: Request, who: Principal) -> dict:
    return {"nodes": visible_nodes(request, who.node), "org": request.app.state.engine.org}


@router.get("/response-times")
def response_times(request: Request, since: EpochS = None, until: EpochS = None, s: Session = Depends(get_session),
                   who: Principal = Depends(require(*READERS))) -> dict:
    """Per tier: count, median/p90 seconds alert→ack and alert→on-scene, share within 60/180/300 s,
    and histograms of both times (fixed bins 0/30/60/120/180/300/600 s and up, plus not reached)."""
    return reports.response_times(s, since, until, visible_nodes(request, who.node))


@router.get("/breakdown")
def breakdown(request: Request, by: By = "tier", since: EpochS = None, until: EpochS = None, drills: Drills = False,
              tz: Tz = "UTC", s: Session = Depends(get_session),
              who: Principal = Depends(require(*READERS))) -> list[dict]:
    """Rows per (key, tier): counts, medians, share on scene within 60/180/300 s and within the tier's target."""
    return report_breakdown.breakdown(s, by, since, until, drills, _tz(tz), **_scope(request, who))


@router.get("/breakdown.csv", response_class=PlainTextResponse)
def breakdown_csv(request: Request, by: By = "tier", since: EpochS = None, until: EpochS = None,
                  drills: Drills = False, tz: Tz = "UTC", s: Session = Depends(get_session),
                  who: Principal = Depends(require(*READERS))) -> Response:
    """The same rows as CSV (one header line; empty cells for no data)."""
    rows = report_breakdown.breakdown(s, by, since, until, drills, _tz(tz), **_scope(request, who))
    return Response(report_breakdown.to_csv(rows), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="response-{by}.csv"'})


@router.get("/chart.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def chart(request: Request, by: By = "day", since: EpochS = None, until: EpochS = None, drills: Drills = False,
                tz: Tz = "UTC", s: Session = Depends(get_session),
                who: Principal = Depends(require(*READERS))) -> Response:
    """Bar chart: share on scene within the tier target, per `by` key and tier."""
    from api import charts

    rows = await run_in_threadpool(report_breakdown.breakdown, s, by, since, until, drills, _tz(tz),
                                   **_scope(request, who))
    png = await run_in_threadpool(charts.within_target_png, rows, f"On scene within target, by {by}")
    return Response(png, media_type="image/png")


@router.get("/coverage")
def get_coverage(request: Request, s: Session = Depends(get_session), who: Principal = Depends(require(*READERS))) -> dict:
    """Per place (alert locations seen, points of interest): per tier the nearest post, its ETA, in
    time or not. An org-scoped user sees their node's incident places and units only."""
    return coverage.coverage(s, request.app.state.engine.config, nodes=visible_nodes(request, who.node))
