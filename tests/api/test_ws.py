"""Unit WebSocket push over a real uvicorn server: live orders, receipts, actions, replay, auth."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from starlette.routing import WebSocketRoute
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from api.app import create_app
from api.settings import Settings
from api.store import OrderRow
from api.store.models import DeliveryRow
from tests.api.conftest import TOKENS, make_alert, wait_until
from tests.api.route_rules import PATH_VALUES, WS_RULES
from tests.api.server import serve

ROLE_TOKEN = {info["role"]: tok for tok, info in TOKENS.items() if tok != "tok-guard"}


@pytest.fixture
def live(settings, clock):
    settings.sse_keepalive_s = 0.2
    app = create_app(settings, clock=clock, start_background=False)
    with serve(app) as url:
        yield url.replace("http://", "ws://"), app.state


def ws_open(base: str, path: str, token: str | None = None, query_token: str | None = None) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    sep = "&" if "?" in path else "?"
    url = f"{base}{path}{sep}access_token={query_token}" if query_token else f"{base}{path}"
    return connect(url, additional_headers=headers, proxy=None, open_timeout=10)


def next_of(ws: ClientConnection, type_: str, timeout: float = 10.0) -> dict:
    while True:
        msg = json.loads(ws.recv(timeout=timeout))
        if msg["type"] == type_:
            return msg


def refused(base: str, path: str, token: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as exc:
        ws_open(base, path, token).close()
    return exc.value.response.status_code


def _orders(state, unit="patrol-1"):
    with state.sessions() as s:
        return list(s.scalars(select(OrderRow).where(OrderRow.responder_id == unit).order_by(OrderRow.id)))


def test_unit_ws_receives_orders_acks_and_acts(live):
    base, state = live
    with ws_open(base, "/api/units/patrol-1/ws", query_token="tok-unit") as ws:
        assert next_of(ws, "ready")["replayed"] == 0
        state.engine.handle_alert(make_alert(severity="high"))
        got = next_of(ws, "order")
        assert got["order"]["responder_id"] == "patrol-1" and got["order"]["state"] == "pending"
        assert got["order"]["zone"] == "gate" and got["event"]["new_state"] == "pending"
        order_id = got["order"]["id"]
        # Delivered to the unit itself → notified; the "notified" change comes back on the socket.
        assert next_of(ws, "order")["order"]["state"] == "notified"
        # A delivery receipt from the unit for the event it has.
        ws.send(json.dumps({"type": "ack", "event_ids": [got["event"]["id"]]}))
        # An order action over the socket.
        ws.send(json.dumps({"type": "action", "order_id": order_id, "action": "acknowledge"}))
        assert next_of(ws, "action_result")["order"]["state"] == "acknowledged"
        ws.send(json.dumps({"type": "action", "order_id": order_id, "action": "acknowledge"}))
        assert "cannot go from acknowledged" in next_of(ws, "error")["detail"]
        ws.send("not json")
        assert next_of(ws, "error")["detail"] == "messages must be JSON objects"
        assert next_of(ws, "keepalive", timeout=5)  # idle link stays visibly alive
    state.receipts.flush()
    with state.sessions() as s:
        rows = list(s.scalars(select(DeliveryRow).where(DeliveryRow.order_id == order_id, DeliveryRow.channel == "ws")))
    assert {(r.status, r.event_id) for r in rows} >= {("delivered", got["event"]["id"]),
                                                       ("received", got["event"]["id"])}
    wait_until(lambda: state.hub.subscriber_count("patrol-1") == 0, what="socket unsubscribed")


def test_reconnect_with_last_event_id_gets_what_it_missed(live):
    base, state = live
    with ws_open(base, "/api/units/patrol-1/ws", token="tok-unit") as ws:
        state.engine.handle_alert(make_alert(severity="high"))
        first = next_of(ws, "order")
        last = next_of(ws, "order")  # notified
        assert last["order"]["state"] == "notified"
    wait_until(lambda: state.hub.subscriber_count("patrol-1") == 0, what="unit gone")
    # Offline: an operator cancels its order by declining for it (a state change an open-orders
    # replay would never show), and a new incident orders it again.
    state.engine.act(first["order"]["id"], "decline", actor="operator:alice", origin="test")
    state.engine.handle_alert(make_alert(severity="high", source="cam-2"))
    with ws_open(base, f"/api/units/patrol-1/ws?last_event_id={last['event']['id']}", token="tok-unit") as ws:
        missed = []
        while (msg := json.loads(ws.recv(timeout=10)))["type"] != "ready":
            missed.append(msg)
        assert msg["replayed"] == len(missed) == 2
        assert all(m["replay"] and m["event"]["id"] > last["event"]["id"] for m in missed)
        assert [m["event"]["new_state"] for m in missed] == ["declined", "pending"]
        assert missed[1]["order"]["id"] != first["order"]["id"]
    # Without last_event_id: its open orders, as on the SSE stream.
    wait_until(lambda: _orders(state)[-1].state == "notified", what="missed order notified")
    with ws_open(base, "/api/units/patrol-1/ws", token="tok-unit") as ws:
        again = next_of(ws, "order")
        assert again["replay"] is True and again["order"]["id"] == missed[1]["order"]["id"]
        assert next_of(ws, "ready")["replayed"] == 1


def test_ws_refusals(live):
    base, _ = live
    assert refused(base, "/api/units/patrol-1/ws") == 401
    assert refused(base, "/api/units/patrol-1/ws", "not-a-token") == 401
    assert refused(base, "/api/units/guard-near/ws", "tok-unit") == 403  # another unit's feed
    assert refused(base, "/api/units/patrol-1/ws", "tok-engineer") == 403
    assert refused(base, "/api/units/patrol-1/ws?last_event_id=x", "tok-unit") == 422
    with ws_open(base, "/api/units/guard-near/ws", "tok-operator") as ws:  # operators may watch any unit
        assert next_of(ws, "ready")["unit_id"] == "guard-near"


def test_every_ws_route_has_a_rule_and_it_holds(live):
    """The auth matrix (test_auth) lists HTTP routes only; this is its WebSocket half."""
    base, _ = live
    app = create_app(Settings(tokens={}), start_background=False)

    def walk(routes):
        for r in routes:
            yield from walk(r.original_router.routes) if hasattr(r, "original_router") else [r]

    ws_paths = sorted(r.path for r in walk(app.routes) if isinstance(r, WebSocketRoute)
                      or type(r).__name__ == "APIWebSocketRoute")
    assert ws_paths == sorted(WS_RULES), "WebSocket routes and WS_RULES (tests/api/route_rules.py) differ"
    for template, allowed in WS_RULES.items():
        path = template
        for k, v in PATH_VALUES.items():
            path = path.replace("{" + k + "}", v)
        assert refused(base, path) == 401
        for role, token in ROLE_TOKEN.items():
            if role in allowed or role == "admin":
                with ws_open(base, path, token) as ws:
                    assert next_of(ws, "ready")
            else:
                assert refused(base, path, token) == 403, f"{role} allowed on WS {path}"
