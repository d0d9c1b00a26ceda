"""Push streams: server-sent events and WebSocket. Tokens may come as `?access_token=` here
(EventSource and browser WebSockets send no headers).

A unit's stream starts with what it missed: the order events after `Last-Event-ID` (or
`?last_event_id=` / `?since=`), or, without those, every open order. It subscribes before reading
that backlog, so an order made in between arrives twice, never zero times.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from api.auth import Principal, forbid_other_unit, require, still_valid_check
from api.deps import get_engine, get_hub, get_settings
from api.dispatch.engine import DispatchEngine, NotYourOrder, OrderNotFound
from api.dispatch.states import ACTIONS, IllegalTransition
from api.push import Frame, PushHub, Subscription
from api.receipts import Receipts, missed_events
from api.settings import Settings

router = APIRouter(prefix="/api", tags=["streams"])
HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
           (b"x-accel-buffering", b"no")]
Delivered = Callable[[Frame], None]
WS_ROLES = ("unit", "operator")


class EventStream(Response):
    """A text/event-stream response fed by a hub subscription.

    Not Starlette's StreamingResponse: that wraps each event in an async generator step, a
    `wait_for` task and a `send`; here a stream wakes once per loop turn and writes everything
    queued for it in one `send`."""

    media_type = "text/event-stream"

    def __init__(self, sub: Subscription, first: list[Frame], keepalive_s: float, delivered: Delivered | None = None,
                 still_valid: Recheck | None = None):
        # Response.__init__ would add content-length: 0 for an empty body; this one never ends.
        self.status_code, self.background, self.raw_headers = 200, None, list(HEADERS)
        self.sub, self.first, self.keepalive_s, self.delivered = sub, first, keepalive_s, delivered
        self.still_valid = still_valid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sub = self.sub
        # The server tells a closed connection only through receive(); end the stream then.
        watcher = asyncio.ensure_future(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            batch: list[Frame] | None = self.first
            head = b"retry: 2000\n\n"
            while batch is not None:
                body = head + b"".join(f.sse for f in batch)
                await send({"type": "http.response.body", "body": body or b": keepalive\n\n", "more_body": True})
                if self.delivered:
                    for f in batch:
                        self.delivered(f)
                head = b""
                if self.still_valid is not None and not await self.still_valid():
                    break  # the user was disabled or changed: end the stream, the client must sign in again
                batch = await sub.next_batch(self.keepalive_s)
            # Cut off by the hub (not reading): end the response; the client reconnects and resyncs.
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            sub.close()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.sub.abort()


Recheck = Callable[[], Awaitable[bool]]


def _recheck(app, who: Principal, settings: Settings) -> Recheck | None:
    """At most every `stream_recheck_s`: is the stream's login user still the same, enabled one?
    (A database read, so off the event loop.) None for API tokens."""
    check = still_valid_check(app, who)
    if check is None:
        return None
    last = time.monotonic()

    async def recheck() -> bool:
        nonlocal last
        if time.monotonic() - last < settings.stream_recheck_s:
            return True
        last = time.monotonic()
        return await run_in_threadpool(check)

    return recheck


def _unit_delivery(engine: DispatchEngine, receipts: Receipts, unit_id: str, channel: str) -> Delivered:
    """What delivery to the unit itself means (an operator watching is not delivery): a receipt,
    and pending → notified, both written on the receipts thread, never on the stream's path."""

    def delivered(f: Frame) -> None:
        ev = f.event
        order = ev.get("order")
        if ev.get("type") != "order" or not order:
            return
        receipts.record_event(ev, channel, f"unit:{unit_id}", "delivered", {"replay": bool(ev.get("replay"))})
        if order["state"] == "pending":
            receipts.defer(engine.mark_notified, order["id"])

    return delivered


async def _backlog(engine: DispatchEngine, unit_id: str, last_event_id: int | None, since: float | None) -> list[Frame]:
    events = None
    if last_event_id is not None or since is not None:
        events = await run_in_threadpool(missed_events, engine.sessions, unit_id, after_id=last_event_id, since=since)
    if events is None:
        orders = await run_in_threadpool(engine.open_orders, unit_id)
        events = [{"type": "order", "replay": True, "order": o, "incident_id": o["incident_id"]} for o in orders]
    return [Frame(ev) for ev in events]


def _int_or_none(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise HTTPException(422, f"{name} must be an integer event id, got {value!r}") from None


@router.get("/units/{unit_id}/stream")
async def unit_stream(unit_id: str, request: Request, since: float | None = None, last_event_id: str | None = None,
                      engine: DispatchEngine = Depends(get_engine), hub: PushHub = Depends(get_hub),
                      settings: Settings = Depends(get_settings),
                      who: Principal = Depends(require("unit", "operator", allow_query=True))) -> EventStream:
    """Orders for one unit, after what it missed (see the module doc)."""
    forbid_other_unit(who, unit_id)
    after = _int_or_none(last_event_id or request.headers.get("last-event-id"), "last_event_id")
    sub = hub.subscribe_unit(unit_id)
    try:
        first = await _backlog(engine, unit_id, after, since)
    except BaseException:
        sub.close()
        raise
    delivered = _unit_delivery(engine, request.app.state.receipts, unit_id, "sse") if who.role == "unit" else None
    return EventStream(sub, first, settings.sse_keepalive_s, delivered, _recheck(request.app, who, settings))


@router.get("/stream")
async def operator_stream(request: Request, hub: PushHub = Depends(get_hub), settings: Settings = Depends(get_settings),
                          who: Principal = Depends(require("operator", "engineer", allow_query=True))) -> EventStream:
    """New alerts, incidents, order changes and command-room alarms of the user's org node and below."""
    sub = hub.subscribe_operators(request.app.state.engine.org.visible(who.node))
    return EventStream(sub, [Frame({"type": "hello", "subject": who.subject, "role": who.role, "node": who.node})],
                       settings.sse_keepalive_s, still_valid=_recheck(request.app, who, settings))


# ---- WebSocket ----------------------------------------------------------------------------------

async def _ws_principal(ws: WebSocket, unit_id: str) -> Principal | None:
    """The same checks as the SSE stream (bearer header or `access_token`); refusals are sent as
    plain HTTP 401/403 before the upgrade, so clients see the same codes as on every other route."""
    try:
        who = require(*WS_ROLES, allow_query=True)(ws, ws.app.state.settings)  # type: ignore[arg-type]
        forbid_other_unit(who, unit_id)
        return who
    except HTTPException as exc:
        await ws.send_denial_response(JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers))
        return None


@router.websocket("/units/{unit_id}/ws")
async def unit_ws(ws: WebSocket, unit_id: str) -> None:
    """Orders for one unit as JSON text messages (the same JSON as the SSE `data:`), after the
    backlog a `{"type": "ready", "replayed": N}`, and `{"type": "keepalive"}` when idle.

    The unit may send `{"type": "ack", "event_ids": [...]}` (a delivery receipt per event it
    has) and `{"type": "action", "order_id": N, "action": "acknowledge"}`; an action is answered
    with `{"type": "action_result", "order": ...}` or `{"type": "error", "detail": ...}`."""
    who = await _ws_principal(ws, unit_id)
    if who is None:
        return
    state = ws.app.state
    engine: DispatchEngine = state.engine
    receipts: Receipts = state.receipts
    q = ws.query_params
    try:
        after = _int_or_none(q.get("last_event_id"), "last_event_id")
        since = float(q["since"]) if q.get("since") else None
    except (HTTPException, ValueError) as exc:
        detail = exc.detail if isinstance(exc, HTTPException) else f"since must be epoch seconds, got {q['since']!r}"
        await ws.send_denial_response(JSONResponse({"detail": detail}, 422))
        return
    await ws.accept()
    sub = state.hub.subscribe_unit(unit_id)
    delivered = _unit_delivery(engine, receipts, unit_id, "ws") if who.role == "unit" else None
    sent_orders: dict[int, int] = {}  # event id → order id, so a receipt needs no lookup
    reader = asyncio.ensure_future(_ws_read(ws, who, unit_id, engine, receipts, sent_orders, sub))
    try:
        batch: list[Frame] | None = await _backlog(engine, unit_id, after, since)
        # After the backlog: the client knows it is caught up (and a bench knows it is subscribed).
        batch = [*batch, Frame({"type": "ready", "unit_id": unit_id, "replayed": len(batch)})]
        keepalive = state.settings.sse_keepalive_s
        still_valid = _recheck(ws.app, who, state.settings)
        while batch is not None:
            if not batch:
                await ws.send_text('{"type":"keepalive"}')
            for f in batch:
                await ws.send_text(f.json)
                eid = (f.event.get("event") or {}).get("id")
                if eid is not None and f.event.get("order"):
                    sent_orders[eid] = f.event["order"]["id"]
                    if len(sent_orders) > 4096:
                        sent_orders.pop(next(iter(sent_orders)))
                if delivered:
                    delivered(f)
            if still_valid is not None and not await still_valid():
                await ws.close(1008, "session no longer valid; sign in again")
                return
            batch = await sub.next_batch(keepalive)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away mid-send
    finally:
        reader.cancel()
        sub.close()
    if not sub.overflowed:
        return
    try:
        await ws.close(1013, "not reading; reconnect with last_event_id")
    except (RuntimeError, OSError):
        pass


async def _ws_read(ws: WebSocket, who: Principal, unit_id: str, engine: DispatchEngine, receipts: Receipts,
                   sent_orders: dict[int, int], sub: Subscription) -> None:
    try:
        while True:
            reply = await _ws_handle(await ws.receive_text(), who, unit_id, engine, receipts, sent_orders, ws)
            if reply is not None:
                await ws.send_text(json.dumps(reply))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        sub.abort()  # the sender loop ends too


async def _ws_handle(text: str, who: Principal, unit_id: str, engine: DispatchEngine, receipts: Receipts,
                     sent_orders: dict[int, int], ws: WebSocket) -> dict[str, Any] | None:
    try:
        msg = json.loads(text)
    except ValueError:
        return {"type": "error", "detail": "messages must be JSON objects"}
    kind = msg.get("type") if isinstance(msg, dict) else None
    if kind == "ack":
        ids = msg.get("event_ids")
        if not isinstance(ids, list):
            return {"type": "error", "detail": "ack: event_ids must be a list of event ids"}
        target = f"unit:{unit_id}"
        for eid in ids:
            if isinstance(eid, int) and eid in sent_orders:
                receipts.record(order_id=sent_orders[eid], event_id=eid, channel="ws", target=target,
                                status="received", detail={"by": f"{who.role}:{who.subject}"})
        return None
    if kind == "action":
        order_id, action = msg.get("order_id"), msg.get("action")
        if not isinstance(order_id, int) or action not in ACTIONS:
            return {"type": "error",
                    "detail": f"action: needs an integer order_id and action one of {', '.join(ACTIONS)}"}
        origin = f"ws:{ws.client.host}" if ws.client else "ws"
        try:
            order = await run_in_threadpool(engine.act, order_id, action, actor=f"{who.role}:{who.subject}",
                                            origin=origin, unit=unit_id if who.role == "unit" else None)
        except (OrderNotFound, NotYourOrder, IllegalTransition) as exc:
            return {"type": "error", "order_id": order_id, "detail": str(exc)}
        return {"type": "action_result", "order": order}
    return {"type": "error", "detail": "unknown message type; send ack or action"}
