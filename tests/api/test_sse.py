"""Unit and operator streams over real HTTP: live orders, redelivery of open orders on reconnect."""

from __future__ import annotations

import json
import queue
import threading

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.store import OrderRow
from api.unitsim import UnitSim, parse_sse
from tests.api.conftest import make_alert, wait_until
from tests.api.server import serve


class StreamReader:
    """Reads an SSE stream in a thread into a queue of (event, data) until closed."""

    def __init__(self, url: str, token: str | None = None, query_token: str | None = None):
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.status: int | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=30.0))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        params = {"access_token": query_token} if query_token else {}
        self._ready, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers, params), daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self, url, headers, params) -> None:
        try:
            with self._client.stream("GET", url, headers=headers, params=params) as resp:
                self.status = resp.status_code
                self._ready.set()
                for event, data in parse_sse(self._lines(resp)):
                    self.events.put((event, json.loads(data)))
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test
        finally:
            self._ready.set()

    def _lines(self, resp):
        for line in resp.iter_lines():  # keepalives (sse_keepalive_s) wake this loop to see a stop
            if self._stop.is_set():
                return
            yield line

    def next(self, event: str, timeout: float = 10.0) -> dict:
        while True:
            name, data = self.events.get(timeout=timeout)
            if name == event:
                return data

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._client.close()


@pytest.fixture
def live(settings, clock):
    settings.sse_keepalive_s = 0.1
    app = create_app(settings, clock=clock, start_background=False)
    with serve(app) as url:
        yield url, app.state


def _orders(state, unit="patrol-1"):
    with state.sessions() as s:
        return list(s.scalars(select(OrderRow).where(OrderRow.responder_id == unit).order_by(OrderRow.id)))


def test_unit_stream_receives_order_and_gets_it_again_on_reconnect(live):
    url, state = live
    stream = StreamReader(f"{url}/api/units/patrol-1/stream", query_token="tok-unit")
    ops = StreamReader(f"{url}/api/stream", token="tok-operator")
    try:
        assert stream.status == 200 and ops.status == 200
        wait_until(lambda: state.hub.subscriber_count("patrol-1") == 1, what="unit subscribed")
        state.engine.handle_alert(make_alert(severity="high"))
        got = stream.next("order")
        assert got["order"]["responder_id"] == "patrol-1" and got["order"]["state"] == "pending"
        assert got["order"]["zone"] == "gate" and got["order"]["eta_s"] > 0
        # Delivered to the unit itself → notified, and the operators see every step.
        wait_until(lambda: _orders(state)[0].state == "notified", what="notified")
        assert ops.next("alert")["alert"]["severity"] == "high"
        assert ops.next("incident")["incident"]["status"] == "open"
    finally:
        stream.close()

    # While the unit is offline its first order is declined for it and a new incident orders it again.
    wait_until(lambda: state.hub.subscriber_count("patrol-1") == 0, what="unit gone")
    first_id = got["order"]["id"]
    state.engine.act(first_id, "decline", actor="operator:alice", origin="test")
    state.engine.handle_alert(make_alert(severity="high", source="cam-2"))
    missed = [o for o in _orders(state) if o.state == "pending"]
    assert len(missed) == 1
    again = StreamReader(f"{url}/api/units/patrol-1/stream", token="tok-unit")
    try:
        replay = again.next("order")
        # Exactly the open order it missed; the declined one is not sent again.
        assert replay["replay"] is True and replay["order"]["id"] == missed[0].id
        wait_until(lambda: _orders(state)[-1].state == "notified", what="missed order notified")
    finally:
        again.close()
        ops.close()


def test_unit_sim_acknowledges_orders(live):
    url, state = live
    sim = UnitSim(unit_id="patrol-1", token="tok-unit", url=url, ack_after=0.0, arrive_after=0.01)
    t = threading.Thread(target=sim.run, daemon=True)
    t.start()
    try:
        wait_until(lambda: state.hub.subscriber_count("patrol-1") == 1, what="sim connected")
        state.engine.handle_alert(make_alert(severity="high"))
        wait_until(lambda: _orders(state) and _orders(state)[0].state == "on_scene", what="sim on scene")
    finally:
        sim.stop.set()
        t.join(15)
