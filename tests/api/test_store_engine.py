"""Store and dispatch engine against real SQLite and PostgreSQL (parametrized by `db_url`)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from api.dispatch.engine import DispatchEngine, NotYourOrder
from api.dispatch.states import IllegalTransition
from api.store import AlertRow, IncidentRow, OrderEventRow, OrderRow, make_engine, make_session_factory, migrate
from tests.api.conftest import dispatch_config, make_alert, north_of, responders


def orders(sessions, **where) -> list[OrderRow]:
    with sessions() as s:
        q = select(OrderRow).order_by(OrderRow.id)
        for k, v in where.items():
            q = q.where(getattr(OrderRow, k) == v)
        return list(s.scalars(q))


def events(sessions, kind: str | None = None) -> list[OrderEventRow]:
    with sessions() as s:
        q = select(OrderEventRow).order_by(OrderEventRow.id)
        if kind:
            q = q.where(OrderEventRow.kind == kind)
        return list(s.scalars(q))


def test_migrations_from_empty_and_again(db_url):
    migrate(db_url)
    migrate(db_url)  # a second start finds it current
    eng = make_engine(db_url)
    try:
        names = set(inspect(eng).get_table_names())
        assert {"alerts", "incidents", "orders", "order_events", "responders", "users", "alembic_version"} <= names
        with eng.connect() as c:
            assert c.execute(text("select version_num from alembic_version")).scalar() == "0004"
    finally:
        eng.dispose()


def test_handle_alert_is_idempotent(engine, sessions):
    alert = make_alert()
    first = engine.handle_alert(alert)
    assert first is not None
    n_orders = len(orders(sessions))
    assert engine.handle_alert(alert) is None  # redelivery: no-op
    assert engine.handle_alert(make_alert()) is None  # same id rebuilt from the same facts
    with sessions() as s:
        assert s.scalar(select(AlertRow.alert_id)) == alert.alert_id
        assert len(list(s.scalars(select(AlertRow)))) == 1
    assert len(orders(sessions)) == n_orders


def test_incident_grouping_by_source_zone_and_window(engine, sessions, clock):
    a = engine.handle_alert(make_alert(observed=clock(), track=1))
    b = engine.handle_alert(make_alert(observed=clock() + 60, track=2))  # same place, in window
    c = engine.handle_alert(make_alert(observed=clock() + 60, track=3, zone="fence-west"))
    d = engine.handle_alert(make_alert(observed=clock() + 60, track=4, source="cam-2"))
    e = engine.handle_alert(make_alert(observed=clock() + 60 + 121, track=5))  # window passed
    assert a == b
    assert len({a, c, d, e}) == 4
    with sessions() as s:
        assert s.get(IncidentRow, a).alert_count == 2
    # The joining alert did not order a second round of units.
    assert len(orders(sessions, incident_id=a)) == 2


def test_tiers_selected_by_eta(engine, sessions):
    engine.handle_alert(make_alert(severity="critical"))
    got = {o.tier: o for o in orders(sessions)}
    assert sorted(got) == [1, 2, 3]
    assert got[1].responder_id == "guard-near"  # not guard-far, not the off-duty one at 10 m
    assert got[2].responder_id == "patrol-1"
    assert got[3].responder_id == "station-1"
    assert got[1].eta_s == pytest.approx(100 * 1.3 / 2.0, rel=0.01)
    assert all(o.state == "pending" for o in got.values())
    # Each creation audited, with who and where.
    created = events(sessions, "state")
    assert [(e.old_state, e.new_state, e.actor) for e in created] == [(None, "pending", "system")] * 3


def test_stale_live_position_falls_back_to_post(engine, sessions, clock):
    # guard-far reports a position right at the scene...
    engine.update_position("guard-far", *north_of(5).values())
    clock.advance(301)  # ...but it goes stale (position_stale_s=300): its post (400 m) counts again
    engine.handle_alert(make_alert(observed=clock(), severity="low"))
    (o,) = orders(sessions)
    assert (o.responder_id, o.position_source) == ("guard-near", "post")


def test_fresh_live_position_wins(engine, sessions, clock):
    engine.update_position("guard-far", *north_of(5).values())
    clock.advance(10)
    engine.handle_alert(make_alert(observed=clock(), severity="low"))
    (o,) = orders(sessions)
    assert (o.responder_id, o.position_source) == ("guard-far", "live")


def test_missed_ack_expires_orders_next_candidate_and_alarms(engine, sessions, clock):
    engine.handle_alert(make_alert(severity="low"))
    clock.advance(29)
    assert engine.tick() == 0
    clock.advance(2)
    assert engine.tick() == 1
    first, second = orders(sessions)
    assert (first.responder_id, first.state) == ("guard-near", "expired")
    assert (second.responder_id, second.state) == ("guard-far", "pending")
    alarms = events(sessions, "alarm")
    assert alarms[-1].detail["reason"] == "missed acknowledge deadline"
    # Hours of simulated time: the second expires too, then nobody is left: the command room hears it.
    clock.advance(3600)
    engine.tick()
    assert [o.state for o in orders(sessions)] == ["expired", "expired"]
    assert "no available tier 1 responder" in events(sessions, "alarm")[-1].detail["reason"]
    assert engine.tick() == 0  # nothing left to do, however often it runs


def test_missed_arrival_escalates(engine, sessions, clock):
    engine.handle_alert(make_alert(severity="low"))
    (o,) = orders(sessions)
    engine.act(o.id, "acknowledge", actor="unit:guard-near", origin="127.0.0.1", unit="guard-near")
    clock.advance(61)  # tier 1 arrival deadline 60 s
    assert engine.tick() == 1
    late, backup = orders(sessions)
    assert late.state == "escalated" and backup.responder_id == "guard-far"
    assert events(sessions, "alarm")[-1].detail["reason"] == "missed arrival deadline"
    # The late unit still arrives and that is recorded.
    engine.act(o.id, "on_scene", actor="unit:guard-near", origin="127.0.0.1", unit="guard-near")
    assert orders(sessions)[0].on_scene_at == clock()


def test_restart_rebuilds_deadlines_from_store(engine, db_url, clock):
    engine.handle_alert(make_alert(severity="low"))
    # A new process: new session factory and engine on the same database, no shared memory.
    sessions2 = make_session_factory(db_url)
    try:
        engine2 = DispatchEngine(sessions2, dispatch_config(), clock)
        clock.advance(31)
        assert engine2.tick() == 1
        assert [o.state for o in orders(sessions2)] == ["expired", "pending"]
    finally:
        sessions2.kw["bind"].dispose()


def test_state_machine_and_audit(engine, sessions):
    engine.handle_alert(make_alert(severity="high"))
    t1 = orders(sessions, tier=1)[0]
    with pytest.raises(IllegalTransition, match="cannot go from pending to resolved"):
        engine.act(t1.id, "resolve", actor="operator:a", origin="10.0.0.1")
    with pytest.raises(NotYourOrder):
        engine.act(t1.id, "acknowledge", actor="unit:patrol-1", origin="x", unit="patrol-1")
    for action in ("acknowledge", "en_route", "on_scene"):
        engine.act(t1.id, action, actor="unit:guard-near", origin="10.0.0.9", unit="guard-near")
    engine.act(t1.id, "resolve", actor="operator:a", origin="10.0.0.1")
    # Resolving closes the incident and cancels the other tier's order.
    states = {o.tier: o.state for o in orders(sessions)}
    assert states == {1: "resolved", 2: "cancelled"}
    trail = [(e.old_state, e.new_state, e.actor, e.origin) for e in events(sessions, "state") if e.order_id == t1.id]
    assert trail == [
        (None, "pending", "system", "dispatcher"),
        ("pending", "acknowledged", "unit:guard-near", "10.0.0.9"),
        ("acknowledged", "en_route", "unit:guard-near", "10.0.0.9"),
        ("en_route", "on_scene", "unit:guard-near", "10.0.0.9"),
        ("on_scene", "resolved", "operator:a", "10.0.0.1"),
    ]
    with pytest.raises(IllegalTransition):
        engine.act(t1.id, "acknowledge", actor="operator:a", origin="x")


def test_decline_orders_next_candidate(engine, sessions):
    engine.handle_alert(make_alert(severity="low"))
    (o,) = orders(sessions)
    engine.act(o.id, "decline", actor="unit:guard-near", origin="x", unit="guard-near")
    assert [(x.responder_id, x.state) for x in orders(sessions)] == [("guard-near", "declined"), ("guard-far", "pending")]


def test_busy_unit_not_ordered_twice(engine, sessions, clock):
    engine.handle_alert(make_alert(severity="low", source="cam-1"))
    engine.handle_alert(make_alert(severity="low", source="cam-2"))
    assert [o.responder_id for o in orders(sessions)] == ["guard-near", "guard-far"]


def test_dispatch_events_published(make_engine, sessions):
    from alerts.model import DISPATCH_EVENTS_TOPIC
    from tests.api.fakebus import FakeBus

    bus, pushed = FakeBus(), []
    eng = make_engine(producer=bus.producer(), push=pushed.append)
    eng.upsert_responders(responders())
    eng.handle_alert(make_alert(severity="low"))
    types = [e["type"] for e in pushed]
    assert types[:3] == ["alert", "incident", "order"]
    assert len(bus.topics[DISPATCH_EVENTS_TOPIC]) == len(pushed)


def test_response_time_report(engine, sessions, clock):
    from api.reports import response_times

    engine.handle_alert(make_alert(severity="low"))
    (o,) = orders(sessions)
    clock.advance(10)
    engine.act(o.id, "acknowledge", actor="u", origin="x")
    clock.advance(40)
    engine.act(o.id, "on_scene", actor="u", origin="x")
    with sessions() as s:
        rep = response_times(s)["tiers"]["1"]
    assert rep["count"] == 1 and rep["ack_median_s"] == 10 and rep["on_scene_p90_s"] == 50
    assert rep["within"] == {"60": 1.0, "180": 1.0, "300": 1.0}


def test_alert_without_location_alarms_instead_of_guessing(engine, sessions):
    engine.handle_alert(make_alert(severity="low", lat=None, lon=None))
    assert orders(sessions) == []
    assert "no location" in events(sessions, "alarm")[-1].detail["reason"]


def test_acknowledge_after_expiry_is_refused(engine, sessions, clock):
    engine.handle_alert(make_alert(severity="low"))
    (o, *_) = orders(sessions)
    clock.advance(31)
    engine.tick()
    with pytest.raises(IllegalTransition, match="cannot go from expired to acknowledged"):
        engine.act(o.id, "acknowledge", actor="unit:guard-near", origin="x", unit="guard-near")


def test_concurrent_migrations_on_postgresql():
    """Several API instances starting together on one PostgreSQL: one migrates, the rest wait."""
    import threading

    from tests.support.postgres import fresh_database

    with fresh_database() as url:
        errors: list[Exception] = []

        def start() -> None:
            try:
                migrate(url)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
