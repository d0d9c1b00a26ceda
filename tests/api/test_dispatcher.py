"""The dispatcher thread with a bus: alert in → order in the store → offset committed; malformed
records go to the dead-letter topic and do not stop the stream."""

from __future__ import annotations

import json
import logging
import warnings

import pytest
from sqlalchemy import func, select

from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC
from api.dispatcher import Dispatcher
from api.store import OrderRow
from tests.api.conftest import make_alert, wait_until
from tests.api.fakebus import FakeBus


def n_orders(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(OrderRow)) or 0


@pytest.fixture
def bus(tmp_path):
    return open_bus(f"embedded:///{tmp_path.as_posix().lstrip('/')}/bus.db")


def test_alert_to_order_dead_letters_and_commit(bus, engine, sessions):
    p = bus.producer()
    p.send(ALERTS_TOPIC, b"not json at all", key=b"cam-1")
    p.send(ALERTS_TOPIC, make_alert(severity="high").to_json(), key=b"cam-1")
    p.send(ALERTS_TOPIC, json.dumps({"alert_id": "x"}).encode(), key=b"cam-1")
    p.send(ALERTS_TOPIC, make_alert(severity="low", source="cam-2").to_json(), key=b"cam-2")
    p.flush()
    d = Dispatcher(bus, engine, "dispatch-test", poll_timeout=0.05)
    d.start()
    try:
        wait_until(lambda: d.handled == 4, what="4 records handled")
    finally:
        d.stop()
    assert n_orders(sessions) == 3  # high: tiers 1+2; low: tier 1 (the next guard)

    dlq = bus.consumer([DEAD_LETTER_TOPIC], "dlq-reader").poll(timeout=1.0)
    reasons = [json.loads(r.value)["reason"] for r in dlq]
    assert len(reasons) == 2
    assert reasons[0].startswith(f"{ALERTS_TOPIC}[0]@0:") and reasons[1].startswith(f"{ALERTS_TOPIC}[0]@2:")
    assert json.loads(dlq[0].value)["value"] == "not json at all"

    # Committed after the database: the same group has nothing left to read.
    assert bus.consumer([ALERTS_TOPIC], "dispatch-test").poll(timeout=0.2) == []

    # A replay from the start (new group) is a no-op thanks to the upsert by alert_id.
    again = Dispatcher(bus, engine, "replay-group", poll_timeout=0.05)
    again.start()
    try:
        wait_until(lambda: again.handled == 4, what="replay handled")
    finally:
        again.stop()
    assert n_orders(sessions) == 3


def test_survives_bus_outage(engine, sessions, caplog):
    bus = FakeBus()
    bus.fail_polls = 3
    bus.append(ALERTS_TOPIC, make_alert(severity="low").to_json())
    d = Dispatcher(bus, engine, "g", poll_timeout=0.01, max_backoff=0.1)
    with caplog.at_level(logging.WARNING, logger="api.dispatcher"):
        d.start()
        try:
            wait_until(lambda: d.handled == 1, what="handled after outage")
        finally:
            d.stop()
    assert n_orders(sessions) == 1
    assert bus.committed[("g", ALERTS_TOPIC)] == 1
    outage_logs = [r for r in caplog.records if "bus error" in r.getMessage()]
    assert len(outage_logs) == 1  # logged once per outage, not per retry


def test_app_runs_dispatcher_from_settings(settings, clock):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from api.app import create_app

    settings.dispatcher_enabled = True
    bus = open_bus(settings.bus_url)
    p = bus.producer()
    p.send(ALERTS_TOPIC, make_alert(severity="high").to_json())
    p.flush()
    with TestClient(create_app(settings, clock=clock)) as client:
        assert client.get("/healthz").json()["dispatcher"] is True
        op = {"Authorization": "Bearer tok-operator"}
        orders = wait_until(lambda: client.get("/api/orders", headers=op).json(), what="orders via API")
        assert {o["responder_id"] for o in orders} == {"guard-near", "patrol-1"}
        assert len(client.get("/api/incidents", headers=op).json()) == 1
    # The dispatch-events feed got the alert, the incident and both orders (after shutdown drained it).
    feed = bus.consumer([DISPATCH_EVENTS_TOPIC], "feed-reader").poll(timeout=1.0)
    assert [json.loads(r.value)["type"] for r in feed][:4] == ["alert", "incident", "order", "order"]


def test_background_publisher_retries_failed_batches_in_order():
    from api.publisher import BackgroundPublisher

    bus = FakeBus()
    bus.fail_flushes = 2
    pub = BackgroundPublisher(bus.producer(), max_backoff=0.05)
    for i in range(3):
        pub.send(DISPATCH_EVENTS_TOPIC, str(i).encode())
    wait_until(lambda: pub.pending() == 0, what="publisher drained")
    pub.close()
    assert [r.value for r in bus.topics[DISPATCH_EVENTS_TOPIC]] == [b"0", b"1", b"2"]
