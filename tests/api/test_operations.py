"""Operator actions and unit status over REST; rate limits; append-only audit; migration 0001 → 0002."""

from __future__ import annotations

import warnings

import pytest
from sqlalchemy import delete, select, text, update

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.store import AppendOnlyViolation, AuditRow, OrderEventRow, make_engine, migrate
from tests.api.conftest import make_alert

OP = {"Authorization": "Bearer tok-operator"}
UNIT = {"Authorization": "Bearer tok-unit"}


@pytest.fixture
def client(settings, clock):
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


def _orders(client, **params):
    return client.get("/api/orders", headers=OP, params=params).json()


def test_reassign_add_units_and_stand_down(client, clock):
    iid = client.app_state.engine.handle_alert(make_alert(severity="high"))
    t1 = next(o for o in _orders(client) if o["tier"] == 1)
    assert t1["responder_id"] == "guard-near"
    r = client.post(f"/api/orders/{t1['id']}/reassign", headers=OP, json={"responder_id": "guard-far"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert (new["responder_id"], new["tier"], new["state"]) == ("guard-far", 1, "pending")
    assert new["ack_deadline_at"] == clock() + 30
    states = {o["id"]: o["state"] for o in _orders(client)}
    assert states[t1["id"]] == "cancelled"
    # Refusals: a busy unit, an off-duty unit, a closed order, unknown ids, a bad body.
    assert client.post(f"/api/orders/{new['id']}/reassign", headers=OP, json={"responder_id": "patrol-1"}).status_code == 409
    assert client.post(f"/api/orders/{new['id']}/reassign", headers=OP, json={"responder_id": "off-1"}).status_code == 409
    assert client.post(f"/api/orders/{t1['id']}/reassign", headers=OP, json={"responder_id": "guard-near"}).status_code == 409
    assert client.post(f"/api/orders/{new['id']}/reassign", headers=OP, json={"responder_id": "nobody"}).status_code == 404
    assert client.post("/api/orders/999/reassign", headers=OP, json={"responder_id": "guard-near"}).status_code == 404
    assert client.post(f"/api/orders/{new['id']}/reassign", headers=OP, json={"to": "x"}).status_code == 422
    # Add units by tier: the fastest free one not yet tried here (tier 3: station-1); tier 1 has
    # none left (guard-near was tried, guard-far is busy, guard-unknown cannot be placed).
    r = client.post(f"/api/incidents/{iid}/units", headers=OP, json={"tier": 3})
    assert [(o["responder_id"], o["tier"]) for o in r.json()] == [("station-1", 3)]
    r = client.post(f"/api/incidents/{iid}/units", headers=OP, json={"tier": 1})
    assert r.status_code == 409 and "no free tier 1 unit" in r.json()["detail"]
    # By name the operator may send a unit again, even one without a known position.
    r = client.post(f"/api/incidents/{iid}/units", headers=OP, json={"responder_ids": ["guard-near", "guard-unknown"]})
    assert [(o["responder_id"], o["eta_s"]) for o in r.json()] == [("guard-near", pytest.approx(65.0)),
                                                                   ("guard-unknown", None)]
    assert client.post(f"/api/incidents/{iid}/units", headers=OP, json={}).status_code == 422
    detail = client.get(f"/api/incidents/{iid}", headers=OP).json()
    assert len(detail["orders"]) == 6 and len(detail["alerts"]) == 1
    # Stand down: every open order cancelled, the incident closed, the reason audited.
    r = client.post(f"/api/incidents/{iid}/stand-down", headers=OP, json={"reason": "false alarm: cat"})
    assert r.status_code == 200 and r.json()["status"] == "stood_down"
    assert {o["state"] for o in _orders(client)} == {"cancelled"}
    assert client.post(f"/api/incidents/{iid}/stand-down", headers=OP, json={"reason": "again"}).status_code == 409
    assert client.post(f"/api/incidents/{iid}/units", headers=OP, json={"tier": 2}).status_code == 409
    audit = client.get("/api/audit", headers=OP).json()
    assert audit["changes"][0]["action"] == "incident.stand_down"
    assert audit["changes"][0]["actor"] == "operator:alice" and audit["changes"][0]["origin"] == "testclient"
    cancels = [e for e in audit["order_events"] if e["new_state"] == "cancelled"]
    assert any("reassigned to guard-far" in e["detail"]["reason"] for e in cancels)
    assert any("stand down: false alarm: cat" in e["detail"]["reason"] for e in cancels)


def test_responder_status_and_stale_positions(client, clock):
    r = client.post("/api/responders/patrol-1/status", headers=UNIT, json={"status": "off_duty"})
    assert r.status_code == 200 and r.json()["status"] == "off_duty"
    assert client.post("/api/responders/guard-near/status", headers=UNIT, json={"status": "busy"}).status_code == 403
    assert client.post("/api/responders/patrol-1/status", headers=UNIT, json={"status": "asleep"}).status_code == 422
    assert client.post("/api/responders/ghost/status", headers=OP, json={"status": "busy"}).status_code == 404
    # Off duty: the next incident skips patrol-1.
    client.app_state.engine.handle_alert(make_alert(severity="high"))
    assert {o["responder_id"] for o in _orders(client)} == {"guard-near", "patrol-2"}
    client.post("/api/responders/patrol-1/status", headers=OP, json={"status": "available"})
    changes = client.get("/api/audit", headers=OP).json()["changes"]
    assert [(c["actor"], c["detail"]["new"]) for c in changes[:2]] == [("operator:alice", "available"),
                                                                       ("unit:patrol-1", "off_duty")]
    # Positions: fresh, then stale after position_stale_s (300 s) without a report.
    assert client.post("/api/responders/patrol-1/position", headers=UNIT, json={"lat": 31.2, "lon": 121.4}).status_code == 200
    units = {u["id"]: u for u in client.get("/api/responders", headers=OP).json()}
    assert units["patrol-1"]["position_stale"] is False and units["patrol-2"]["position_stale"] is True
    clock.advance(301)
    units = {u["id"]: u for u in client.get("/api/responders", headers=OP).json()}
    assert units["patrol-1"]["position_stale"] is True


def test_position_rate_limit(client, clock):
    body = {"lat": 31.2, "lon": 121.4}
    codes = [client.post("/api/responders/patrol-1/position", headers=UNIT, json=body).status_code for _ in range(12)]
    assert codes == [200] * 10 + [429] * 2  # burst 10, then 1 per second
    r = client.post("/api/responders/patrol-1/position", headers=UNIT, json=body)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    # Per unit: another unit is not affected; after a simulated second one more is allowed.
    assert client.post("/api/responders/patrol-2/position", headers=OP, json=body).status_code == 200
    clock.advance(1.0)
    assert client.post("/api/responders/patrol-1/position", headers=UNIT, json=body).status_code == 200


def test_audit_is_append_only(engine, sessions, db_url):
    from api.dispatch import operator

    engine.handle_alert(make_alert(severity="low"))
    operator.set_status(engine, "guard-far", "busy", actor="operator:a", origin="10.0.0.1")
    # Through the store API: refused before it reaches the database.
    for model in (OrderEventRow, AuditRow):
        with sessions() as s:
            row = s.scalars(select(model)).first()
            if model is OrderEventRow:
                row.actor = "someone else"
            else:
                row.detail = {"forged": True}
            with pytest.raises(AppendOnlyViolation):
                s.commit()
        with sessions() as s:
            s.delete(s.scalars(select(model)).first())
            with pytest.raises(AppendOnlyViolation):
                s.commit()
        with sessions() as s, pytest.raises(AppendOnlyViolation):
            s.execute(update(model).values(actor="x"))
        with sessions() as s, pytest.raises(AppendOnlyViolation):
            s.execute(delete(model))
    # Around the store API, raw SQL: the database's triggers refuse (SQLite and PostgreSQL).
    raw = make_engine(db_url)
    try:
        for table in ("order_events", "audit_log"):
            for stmt in (f"UPDATE {table} SET actor = 'x'", f"DELETE FROM {table}"):
                with pytest.raises(Exception, match="append-only"):
                    with raw.begin() as c:
                        c.execute(text(stmt))
        with raw.connect() as c:
            assert c.execute(text("select count(*) from audit_log")).scalar() == 1
    finally:
        raw.dispose()


def test_migration_from_previous_revision_keeps_data(db_url):
    """A database at 0001 with data (the previous release) upgrades to head; rows and ids survive."""
    from alembic import command
    from alembic.config import Config

    from api.store import _PKG

    cfg = Config(str(_PKG / "alembic.ini"))
    cfg.set_main_option("script_location", str(_PKG / "migrations"))
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
        with eng.begin() as c:
            c.execute(text("INSERT INTO incidents (source_id, zone, severity, status, opened_at, last_observed_at,"
                           " alert_count) VALUES ('cam-1', 'z', 'high', 'open', 1, 1, 1)"))
            c.execute(text("INSERT INTO responders (id, name, type, tier, speed_mps, status)"
                           " VALUES ('g', 'G', 'guard', 1, 2.0, 'busy')"))
        migrate(db_url)
        with eng.connect() as c:
            assert c.execute(text("select version_num from alembic_version")).scalar() == "0004"
            assert c.execute(text("select drill from incidents")).scalar() in (False, 0)
            assert c.execute(text("select status, status_at, node from responders")).one() == ("busy", None, None)
        # And back down to the previous release, and up again.
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        migrate(db_url)
    finally:
        eng.dispose()


def test_drill_runs_through_the_engine_marked_everywhere(client, clock):
    pushed = []
    engine = client.app_state.engine
    inner = engine.push
    engine.push = lambda ev: (pushed.append(ev), inner(ev))
    r = client.post("/api/drills", headers=OP, json={"lat": 31.2304, "lon": 121.4737, "severity": "high", "zone": "gate"})
    assert r.status_code == 200, r.text
    iid = r.json()["incident_id"]
    # A real alert at the same place and time does not join the drill.
    real = engine.handle_alert(make_alert(severity="high", zone="gate"))
    assert real != iid
    drill_orders = _orders(client, incident_id=iid)
    assert {o["responder_id"] for o in drill_orders} == {"guard-near", "patrol-1"}
    assert all(o["drill"] is True for o in drill_orders)
    assert all(ev.get("drill") is True for ev in pushed if ev.get("incident_id") == iid and ev["type"] != "alert")
    assert all(not o["drill"] for o in _orders(client, incident_id=real))
    clock.advance(4)
    t1 = next(o for o in drill_orders if o["tier"] == 1)
    client.post(f"/api/orders/{t1['id']}/acknowledge", headers=OP)
    clock.advance(40)
    client.post(f"/api/orders/{t1['id']}/on_scene", headers=OP)
    rep = client.get(f"/api/drills/{iid}", headers=OP).json()
    assert rep["drill"] is True and rep["tiers"]["1"] == {"first_acknowledged_s": 4.0, "first_on_scene_s": 44.0}
    assert client.get(f"/api/drills/{real}", headers=OP).status_code == 404
    assert client.get(f"/api/incidents/{iid}", headers=OP).json()["drill"] is True
    assert client.get("/api/audit", headers=OP).json()["changes"][0]["action"] == "drill.start"
