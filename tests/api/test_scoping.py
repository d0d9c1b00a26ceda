"""Org scoping beyond incident lists: reports (rolled up), audit, responders, deliveries, drills and
operator actions. Two stations under one county under the city (tests/api/test_org.py's ORG)."""

from __future__ import annotations

import json
import warnings

import pytest
from pydantic import SecretStr

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api import users
from api.app import create_app
from api.settings import TokenInfo
from tests.api.conftest import make_alert
from tests.api.test_org import ORG, org_responders


def H(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
def org_site(settings, clock):
    """The app with the org, one incident at each station, both reached on scene (A in 40 s, B in 90 s)."""
    (settings.config_dir / "org.yaml").write_text(json.dumps(ORG))
    (settings.config_dir / "responders.yaml").write_text(
        json.dumps(org_responders().model_dump(mode="json", exclude_none=True)))
    settings.tokens = {**settings.tokens,
                       "tok-st-a": TokenInfo(role="operator", subject="anna", node="st-a"),
                       "tok-st-b": TokenInfo(role="operator", subject="bo", node="st-b"),
                       "tok-east": TokenInfo(role="operator", subject="erik", node="east"),
                       "tok-city": TokenInfo(role="operator", subject="chen", node="city")}
    settings.jwt_secret = SecretStr("scoping-test-secret-0123456789abcdef")
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        eng = app.state.engine
        ia = eng.handle_alert(make_alert(severity="low", source="cam-a").model_copy(update={"site": "site-a"}))
        ib = eng.handle_alert(make_alert(severity="low", source="cam-b").model_copy(update={"site": "site-b"}))
        orders = {o["incident_id"]: o for o in c.get("/api/orders", headers=H("tok-city")).json()}
        for iid, unit, after in ((ia, "guard-a", 40), (ib, "guard-b", 90)):
            clock.advance(after / 2)
            eng.act(orders[iid]["id"], "acknowledge", actor=f"unit:{unit}", origin="x", unit=unit)
            clock.advance(after / 2)
            eng.act(orders[iid]["id"], "on_scene", actor=f"unit:{unit}", origin="x", unit=unit)
            clock.t -= after  # both measured from their own alert
        c.ids = {"a": ia, "b": ib, "order_a": orders[ia]["id"], "order_b": orders[ib]["id"]}
        c.app_state = app.state
        yield c


def test_station_sees_only_its_incident_county_both(org_site):
    c, ids = org_site, org_site.ids
    assert c.get(f"/api/incidents/{ids['b']}", headers=H("tok-st-a")).status_code == 404
    assert c.get(f"/api/incidents/{ids['a']}", headers=H("tok-st-a")).status_code == 200
    for iid in (ids["a"], ids["b"]):
        assert c.get(f"/api/incidents/{iid}", headers=H("tok-east")).status_code == 200


def test_reports_are_scoped_and_roll_up(org_site):
    c = org_site

    def tier1(tok: str) -> dict:
        return c.get("/api/reports/response-times", headers=H(tok)).json()["tiers"]["1"]

    assert tier1("tok-st-a")["count"] == 1 and tier1("tok-st-a")["on_scene_median_s"] == 40
    assert tier1("tok-st-b")["count"] == 1 and tier1("tok-st-b")["on_scene_median_s"] == 90
    assert tier1("tok-east")["count"] == 2 and tier1("tok-city")["count"] == 2

    def by_node(tok: str) -> dict[str, int]:
        rows = c.get("/api/reports/breakdown?by=node", headers=H(tok)).json()
        return {r["key"]: r["count"] for r in rows}

    # Each node's row counts its own incidents and those below it.
    assert by_node("tok-city") == {"city": 2, "east": 2, "st-a": 1, "st-b": 1}
    assert by_node("tok-east") == {"east": 2, "st-a": 1, "st-b": 1}
    assert by_node("tok-st-a") == {"st-a": 1}
    east = next(r for r in c.get("/api/reports/breakdown?by=node", headers=H("tok-east")).json() if r["key"] == "east")
    assert east["within_60"] == 0.5 and east["within_180"] == 1.0
    csv = c.get("/api/reports/breakdown.csv?by=zone", headers=H("tok-st-b")).text
    assert csv.count("\n") == 2  # header + station B's one zone row
    assert c.get("/api/reports/chart.png?by=node", headers=H("tok-st-a")).headers["content-type"] == "image/png"


def test_audit_and_actions_are_scoped(org_site):
    c, ids = org_site, org_site.ids
    # A station may not act on the other station's incident, order or unit: 404, nothing changes.
    body = {"reason": "false alarm"}
    assert c.post(f"/api/incidents/{ids['b']}/stand-down", headers=H("tok-st-a"), json=body).status_code == 404
    assert c.post(f"/api/incidents/{ids['b']}/units", headers=H("tok-st-a"), json={"tier": 1}).status_code == 404
    assert c.post(f"/api/orders/{ids['order_b']}/reassign", headers=H("tok-st-a"),
                  json={"responder_id": "guard-a"}).status_code == 404
    assert c.post("/api/responders/guard-b/status", headers=H("tok-st-a"), json={"status": "busy"}).status_code == 404
    assert c.get(f"/api/orders/{ids['order_b']}/deliveries", headers=H("tok-st-a")).status_code == 404
    assert c.get(f"/api/orders/{ids['order_a']}/deliveries", headers=H("tok-st-a")).status_code == 200
    assert c.get(f"/api/drills/{ids['b']}", headers=H("tok-st-a")).status_code == 404
    assert c.get(f"/api/incidents/{ids['b']}", headers=H("tok-east")).json()["status"] == "open"
    # Its own: allowed, and audited.
    assert c.post(f"/api/incidents/{ids['a']}/stand-down", headers=H("tok-st-a"), json=body).status_code == 200
    assert c.post("/api/responders/guard-a/status", headers=H("tok-st-a"), json={"status": "busy"}).status_code == 200
    assert c.post("/api/responders/guard-b/status", headers=H("tok-st-b"), json={"status": "busy"}).status_code == 200

    def audit(tok: str) -> tuple[set[str], set[int]]:
        a = c.get("/api/audit", headers=H(tok)).json()
        return {x["target"] for x in a["changes"]}, {e["incident_id"] for e in a["order_events"]}

    assert audit("tok-st-a") == ({f"incident:{ids['a']}", "responder:guard-a"}, {ids["a"]})
    assert audit("tok-st-b") == ({"responder:guard-b"}, {ids["b"]})
    assert audit("tok-east") == audit("tok-city") == (
        {f"incident:{ids['a']}", "responder:guard-a", "responder:guard-b"}, {ids["a"], ids["b"]})


def test_responders_are_scoped(org_site):
    c = org_site

    def units(tok: str) -> set[str]:
        return {r["id"] for r in c.get("/api/responders", headers=H(tok)).json()}

    assert units("tok-st-a") == {"guard-a"}
    assert units("tok-st-b") == {"guard-b", "patrol-b"}
    assert units("tok-east") == {"guard-a", "guard-b", "patrol-b"}
    assert units("tok-city") == {"guard-a", "guard-b", "patrol-b", "patrol-city"}


def test_login_user_bound_to_a_node_is_scoped_and_its_logins_audited_there(org_site):
    c, ids = org_site, org_site.ids
    with c.app_state.sessions() as s:
        users.add_user(s, users.NewUser(username="anna", password="station a password", role="operator",
                                        node="st-a"), now=0, actor="admin:root", origin="cli")
    tok = c.post("/api/auth/token", data={"username": "anna", "password": "station a password"}).json()["access_token"]
    assert {i["id"] for i in c.get("/api/incidents", headers=H(tok)).json()} == {ids["a"]}
    assert c.get(f"/api/incidents/{ids['b']}", headers=H(tok)).status_code == 404
    assert "user:anna" in {x["target"] for x in c.get("/api/audit", headers=H("tok-east")).json()["changes"]}
    assert "user:anna" not in {x["target"] for x in c.get("/api/audit", headers=H("tok-st-b")).json()["changes"]}


def test_coverage_suggestions_and_map_units_are_scoped(org_site):
    """A station's coverage is its own: its incident places and units; the city sees them all."""
    c = org_site

    def place_ids(tok):
        return {p["id"] for p in c.get("/api/reports/coverage", headers=H(tok)).json()["places"]}

    assert "cam-a/gate" in place_ids("tok-st-a") and "cam-b/gate" not in place_ids("tok-st-a")
    assert {"cam-a/gate", "cam-b/gate"} <= place_ids("tok-city")
    best = {p["id"]: p["tiers"]["1"]["best_unit"]
            for p in c.get("/api/reports/coverage", headers=H("tok-st-a")).json()["places"]}
    assert best["cam-a/gate"] in (None, "guard-a")  # never another station's unit
    sug = c.get("/api/coverage/suggestions?tier=1", headers=H("tok-st-b")).json()
    assert "cam-a/gate" not in json.dumps(sug)
    units = {u["id"] for u in c.get("/api/console/responders", headers=H("tok-st-a")).json()}
    all_units = {u["id"] for u in c.get("/api/console/responders", headers=H("tok-city")).json()}
    assert "guard-a" in units and "guard-b" not in units and {"guard-a", "guard-b"} <= all_units
