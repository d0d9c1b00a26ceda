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

    def __init__(self, url: str, token: str | None = None, query_token: str | None = None,
                 headers: dict[str, str] | None = None):
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.status: int | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=30.0))
        headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
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


def test_unit_stream_resumes_after_last_event_id(live):
    """EventSource sends Last-Event-ID on reconnect: the unit gets the events it missed, in order."""
    url, state = live
    stream = StreamReader(f"{url}/api/units/patrol-1/stream", token="tok-unit")
    try:
        state.engine.handle_alert(make_alert(severity="high"))
        first = stream.next("order")
        last = stream.next("order")
        assert last["order"]["state"] == "notified"
    finally:
        stream.close()
    wait_until(lambda: state.hub.subscriber_count("patrol-1") == 0, what="unit gone")
    state.engine.act(first["order"]["id"], "decline", actor="operator:alice", origin="test")
    again = StreamReader(f"{url}/api/units/patrol-1/stream", token="tok-unit",
                         headers={"Last-Event-ID": str(last["event"]["id"])})
    try:
        missed = again.next("order")
        assert missed["replay"] is True and missed["event"]["new_state"] == "declined"
        assert missed["order"]["id"] == first["order"]["id"]
    finally:
        again.close()


def test_operator_stream_only_carries_its_org_node(settings, clock):
    """An operator of station A sees station A's alerts and incidents live; the county sees both."""
    from api.settings import TokenInfo
    from tests.api.test_org import ORG, org_responders

    (settings.config_dir / "org.yaml").write_text(json.dumps(ORG))
    (settings.config_dir / "responders.yaml").write_text(
        json.dumps(org_responders().model_dump(mode="json", exclude_none=True)))
    settings.tokens = {**settings.tokens, "tok-st-a": TokenInfo(role="operator", subject="anna", node="st-a"),
                       "tok-east": TokenInfo(role="operator", subject="erik", node="east")}
    settings.sse_keepalive_s = 0.1
    app = create_app(settings, clock=clock, start_background=False)
    with serve(app) as url:
        station = StreamReader(f"{url}/api/stream", token="tok-st-a")
        county = StreamReader(f"{url}/api/stream", query_token="tok-east")
        try:
            assert station.next("hello")["node"] == "st-a"
            wait_until(lambda: app.state.hub.subscriber_count() == 2, what="operators subscribed")
            eng = app.state.engine
            ib = eng.handle_alert(make_alert(severity="low", source="cam-b").model_copy(update={"site": "site-b"}))
            ia = eng.handle_alert(make_alert(severity="low", source="cam-a").model_copy(update={"site": "site-a"}))
            # A console event that carries only the incident id is scoped by what the hub learnt.
            app.state.hub.publish({"type": "incident_ack", "incident_id": ib, "ack": {"by": "x"}})
            app.state.hub.publish({"type": "incident_ack", "incident_id": ia, "ack": {"by": "x"}})
            assert {county.next("alert")["incident_id"], county.next("alert")["incident_id"]} == {ia, ib}
            assert {county.next("incident_ack")["incident_id"],
                    county.next("incident_ack")["incident_id"]} == {ia, ib}
            # The station's stream: station A's events only (the first it gets is A's, though B's came first).
            assert station.next("alert")["incident_id"] == ia
            inc = station.next("incident")
            assert inc["incident_id"] == ia and inc["incident"]["node"] == "st-a"
            assert station.next("incident_ack")["incident_id"] == ia
            others = [d for _, d in list(station.events.queue) if d.get("incident_id") == ib]
            assert others == []
        finally:
            station.close()
            county.close()


def test_hub_batches_and_cuts_off_a_reader_that_stops():
    """Frames published from another thread arrive in order in one batch; a feed that has
    QUEUE_MAX unread frames is ended (its client reconnects and resyncs), others go on."""
    import asyncio

    from api.push import QUEUE_MAX, PushHub

    async def main():
        hub = PushHub()
        hub.bind(asyncio.get_running_loop())
        slow, fast = hub.subscribe_unit("u1"), hub.subscribe_unit("u2")

        def publish(unit, n):
            for i in range(n):
                hub.publish({"type": "order", "incident_id": 1, "event": {"id": i},
                             "order": {"id": i, "responder_id": unit, "state": "pending"}})

        await asyncio.to_thread(publish, "u2", 5)
        batch = await fast.next_batch(5)
        assert [f.event["event"]["id"] for f in batch] == [0, 1, 2, 3, 4]
        assert batch[0].sse.startswith(b"id: 0\nevent: order\ndata: {") and batch[0].json.startswith("{")
        assert await fast.next_batch(0.05) == []  # idle: the caller sends a keepalive
        await asyncio.to_thread(publish, "u1", QUEUE_MAX + 1)
        await asyncio.sleep(0.05)
        assert slow.overflowed and await slow.next_batch(5) is None
        slow.close()
        fast.close()
        assert hub.subscriber_count("u1") == hub.subscriber_count("u2") == 0

    asyncio.run(main())
