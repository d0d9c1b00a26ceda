"""Server-sent event streams. Tokens may come as `?access_token=` here (EventSource sends no headers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.auth import Principal, forbid_other_unit, require
from api.deps import get_engine, get_hub, get_settings
from api.dispatch.engine import DispatchEngine
from api.push import PushHub, Subscription, sse
from api.settings import Settings

router = APIRouter(prefix="/api", tags=["streams"])
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
Sent = Callable[[dict[str, Any]], Awaitable[None]]


async def _live(sub: Subscription, first: list[dict[str, Any]], keepalive_s: float,
                sent: Sent | None = None) -> AsyncIterator[str]:
    try:
        yield "retry: 2000\n\n"
        for ev in first:
            yield sse(ev["type"], ev)
            if sent:
                await sent(ev)
        while True:
            try:
                ev = await asyncio.wait_for(sub.queue.get(), keepalive_s)
            except TimeoutError:
                yield ": keepalive\n\n"  # proxies close idle connections; comments keep them open
                continue
            if ev is None:  # the hub cut a slow reader off; the client reconnects and resyncs
                return
            yield sse(ev["type"], ev, (ev.get("event") or {}).get("id"))
            if sent:
                await sent(ev)
    finally:
        sub.close()


@router.get("/units/{unit_id}/stream")
async def unit_stream(unit_id: str, request: Request, engine: DispatchEngine = Depends(get_engine),
                      hub: PushHub = Depends(get_hub), settings: Settings = Depends(get_settings),
                      who: Principal = Depends(require("unit", "operator", allow_query=True))) -> StreamingResponse:
    """Orders for one unit. On connect: every open order first, so a reconnecting unit misses nothing."""
    forbid_other_unit(who, unit_id)
    receipts = request.app.state.receipts
    # Subscribe before reading the backlog: an order made in between arrives twice, never zero times.
    sub = hub.subscribe_unit(unit_id)
    backlog = await run_in_threadpool(engine.open_orders, unit_id)
    first = [{"type": "order", "replay": True, "order": o, "incident_id": o["incident_id"]} for o in backlog]

    async def delivered(ev: dict[str, Any]) -> None:
        # Delivery to the unit itself is what "notified" means; an operator watching is not delivery.
        order = ev.get("order")
        if ev.get("type") != "order" or not order:
            return
        receipts.record_event(ev, "sse", f"unit:{unit_id}", "delivered", {"replay": bool(ev.get("replay"))})
        if order["state"] == "pending":
            await run_in_threadpool(engine.mark_notified, order["id"])

    return StreamingResponse(_live(sub, first, settings.sse_keepalive_s, delivered if who.role == "unit" else None),
                             media_type="text/event-stream", headers=HEADERS)


@router.get("/stream")
async def operator_stream(hub: PushHub = Depends(get_hub), settings: Settings = Depends(get_settings),
                          who: Principal = Depends(require("operator", "engineer", allow_query=True))) -> StreamingResponse:
    """New alerts, incidents, order changes and command-room alarms."""
    sub = hub.subscribe_operators()
    return StreamingResponse(_live(sub, [{"type": "hello", "subject": who.subject, "role": who.role}],
                                   settings.sse_keepalive_s),
                             media_type="text/event-stream", headers=HEADERS)
