"""Open streams of a login user end when the user is disabled (or changed), over a real server:
the WebSocket closes with 1008 and the SSE response ends, within `stream_recheck_s`."""

from __future__ import annotations

import time

import httpx
import pytest
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed

from api import users
from api.app import create_app
from tests.api.server import serve
from tests.api.test_ws import next_of, ws_open

SECRET = "stream-revocation-secret-0123456789abcdef"


@pytest.fixture
def live(settings, clock):
    settings.jwt_secret = SecretStr(SECRET)
    settings.sse_keepalive_s = 0.2
    settings.stream_recheck_s = 0.3
    app = create_app(settings, clock=clock, start_background=False)
    with serve(app) as url:
        yield url, app.state


def _user(state, name: str, **kw) -> None:
    with state.sessions() as s:
        users.add_user(s, users.NewUser(username=name, password="correct horse battery", **kw),
                       now=state.engine.clock(), actor="test", origin="test")


def _token(url: str, name: str) -> str:
    r = httpx.post(f"{url}/api/auth/token", data={"username": name, "password": "correct horse battery"})
    r.raise_for_status()
    return r.json()["access_token"]


def _disable(state, name: str) -> None:
    with state.sessions() as s:
        users.set_disabled(s, name, True, now=state.engine.clock(), actor="admin:test", origin="test")


def test_disabling_a_unit_user_closes_its_websocket(live):
    url, state = live
    _user(state, "crew1", role="unit", unit="patrol-1")
    tok = _token(url, "crew1")
    with ws_open(url.replace("http://", "ws://"), "/api/units/patrol-1/ws", token=tok) as ws:
        assert next_of(ws, "ready")["replayed"] == 0
        assert next_of(ws, "keepalive", timeout=5)  # still fine while enabled
        _disable(state, "crew1")
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(100):
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_disabling_an_operator_ends_its_event_stream(live):
    url, state = live
    _user(state, "olga", role="operator")
    tok = _token(url, "olga")
    with httpx.stream("GET", f"{url}/api/stream", headers={"Authorization": f"Bearer {tok}"}, timeout=15) as r:
        assert r.status_code == 200
        chunks = r.iter_bytes()
        assert b"hello" in next(chunks)
        _disable(state, "olga")
        started = time.monotonic()
        for _ in chunks:  # keepalives until the recheck ends the response
            assert time.monotonic() - started < 10, "the stream outlived its disabled user"
    # An API-token stream is not affected by user changes (nothing to recheck).
    with httpx.stream("GET", f"{url}/api/stream", headers={"Authorization": "Bearer tok-operator"}, timeout=5) as r:
        chunks = r.iter_bytes()
        assert b"hello" in next(chunks)
        assert next(chunks)  # keepalives keep coming
