"""Organisation hierarchy: validation, dispatch one level up, users see their node and below."""

from __future__ import annotations

import warnings

import pytest
from pydantic import ValidationError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiConfig, RespondersFile, load_api_config
from api.dispatch.engine import DispatchEngine
from api.org import Org, OrgFile
from tests.api.conftest import dispatch_config, make_alert, north_of
from tests.api.test_store_engine import events, orders

ORG = {"nodes": [
    {"id": "city", "name": "City", "kind": "city"},
    {"id": "east", "name": "East county", "parent": "city"},
    {"id": "st-a", "name": "Station A", "parent": "east", "sites": ["site-a"]},
    {"id": "st-b", "name": "Station B", "parent": "east", "sites": ["site-b"]},
]}


def org_responders() -> RespondersFile:
    return RespondersFile.model_validate({"responders": [
        {"id": "guard-a", "name": "A", "type": "guard", "post": north_of(50), "node": "st-a"},
        {"id": "guard-b", "name": "B", "type": "guard", "post": north_of(30), "node": "st-b"},  # nearer, other station
        {"id": "patrol-b", "name": "PB", "type": "patrol_car", "post": north_of(500), "node": "st-b"},
        {"id": "patrol-city", "name": "PC", "type": "patrol_car", "post": north_of(3000)},  # no node: the city's
    ]})


def test_org_file_validation():
    with pytest.raises(ValidationError, match="exactly one root"):
        OrgFile.model_validate({"nodes": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]})
    with pytest.raises(ValidationError, match="parent 'x' is not a node"):
        OrgFile.model_validate({"nodes": [{"id": "a", "name": "A"}, {"id": "b", "name": "B", "parent": "x"}]})
    with pytest.raises(ValidationError, match="cycle"):
        OrgFile.model_validate({"nodes": [{"id": "r", "name": "R"}, {"id": "a", "name": "A", "parent": "b"},
                                          {"id": "b", "name": "B", "parent": "a"}]})
    org = Org(OrgFile.model_validate(ORG))
    assert org.subtree("east") == {"east", "st-a", "st-b"}
    assert [n for n, _ in org.scopes("st-a")] == ["st-a", "east", "city"]
    assert org.visible("city") is None and org.visible("st-a") == {"st-a"}


def test_example_org_is_valid():
    from pathlib import Path

    cfg = load_api_config(Path(__file__).resolve().parents[2] / "configs")
    assert Org(cfg.org).node_of_site("demo") == "nanjing-road-station"


def test_dispatch_goes_one_level_up(sessions, clock):
    cfg = ApiConfig(responders=org_responders(), dispatch=dispatch_config(), org=OrgFile.model_validate(ORG))
    eng = DispatchEngine(sessions, cfg, clock)
    eng.upsert_responders(cfg.responders.responders)
    # Site A: tier 1 from its own station (guard-a), though guard-b of station B is nearer.
    # Tier 2: station A has none → the county (patrol-b), and the command room hears it.
    iid = eng.handle_alert(make_alert(severity="high", source="cam-a") .model_copy(update={"site": "site-a"}))
    got = {o.tier: o.responder_id for o in orders(sessions, incident_id=iid)}
    assert got == {1: "guard-a", 2: "patrol-b"}
    reasons = [e.detail["reason"] for e in events(sessions, "alarm")]
    assert reasons == ["tier 2 cannot be met at st-a; escalated to east"]
    # Station A's guard declines: nobody else local → the county's guard-b takes it.
    (t1,) = [o for o in orders(sessions, incident_id=iid) if o.tier == 1]
    eng.act(t1.id, "decline", actor="unit:guard-a", origin="x", unit="guard-a")
    assert orders(sessions, incident_id=iid)[-1].responder_id == "guard-b"


def test_users_see_their_node_and_below(settings, clock, tmp_path):
    import json

    (settings.config_dir / "org.yaml").write_text(json.dumps(ORG))
    (settings.config_dir / "responders.yaml").write_text(json.dumps(org_responders().model_dump(mode="json",
                                                                                               exclude_none=True)))
    from api.settings import TokenInfo

    settings.tokens = {**settings.tokens,
                       "tok-st-a": TokenInfo(role="operator", subject="anna", node="st-a"),
                       "tok-east": TokenInfo(role="operator", subject="erik", node="east"),
                       "tok-city": TokenInfo(role="operator", subject="chen", node="city")}
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        eng = app.state.engine
        ia = eng.handle_alert(make_alert(severity="low", source="cam-a").model_copy(update={"site": "site-a"}))
        ib = eng.handle_alert(make_alert(severity="low", source="cam-b").model_copy(update={"site": "site-b"}))
        none = eng.handle_alert(make_alert(severity="low", source="cam-x").model_copy(update={"site": "elsewhere"}))

        def seen(tok: str) -> set[int]:
            return {i["id"] for i in c.get("/api/incidents", headers={"Authorization": f"Bearer {tok}"}).json()}

        assert seen("tok-st-a") == {ia}
        assert seen("tok-east") == {ia, ib}
        assert seen("tok-city") == seen("tok-operator") == {ia, ib, none}
        h = {"Authorization": "Bearer tok-st-a"}
        assert c.get(f"/api/incidents/{ib}", headers=h).status_code == 404
        assert c.get(f"/api/incidents/{ia}", headers=h).json()["node"] == "st-a"
        assert {o["incident_id"] for o in c.get("/api/orders", headers=h).json()} == {ia}
        assert {a["incident_id"] for a in c.get("/api/alerts", headers=h).json()} == {ia}
