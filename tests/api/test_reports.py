"""Response-time breakdowns (tier, unit, zone, period), CSV, chart and coverage, on both stores."""

from __future__ import annotations

import csv
import io
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.config import PointOfInterest
from api.coverage import coverage
from api.report_breakdown import breakdown, to_csv
from tests.api.conftest import make_alert, north_of
from tests.api.test_store_engine import orders

DAY = 86_400


def _respond(engine, sessions, clock, incident_id, ack_after, scene_after):
    """Every open order of the incident acknowledges after `ack_after` and is on scene after `scene_after`."""
    mine = [o for o in orders(sessions, incident_id=incident_id) if o.state == "pending"]
    clock.advance(ack_after)
    for o in mine:
        engine.act(o.id, "acknowledge", actor="u", origin="x")
    clock.advance(scene_after - ack_after)
    for o in mine:
        engine.act(o.id, "on_scene", actor="u", origin="x")
    engine.act(mine[0].id, "resolve", actor="u", origin="x")


def test_breakdowns(engine, sessions, clock):
    # Day 1, zone gate: tier 1 on scene at 50 s, tier 2 at 50 s.  Day 2, zone yard: both at 200 s.
    i1 = engine.handle_alert(make_alert(severity="high", zone="gate", observed=clock()))
    _respond(engine, sessions, clock, i1, 10, 50)
    clock.advance(DAY)
    i2 = engine.handle_alert(make_alert(severity="high", zone="yard", observed=clock(), track=2))
    _respond(engine, sessions, clock, i2, 20, 200)
    with sessions() as s:
        by_tier = {r["tier"]: r for r in breakdown(s, "tier")}
        by_zone = {(r["key"], r["tier"]): r for r in breakdown(s, "zone")}
        by_day = {(r["key"], r["tier"]): r for r in breakdown(s, "day")}
        by_unit = {(r["key"], r["tier"]): r for r in breakdown(s, "unit")}
        by_month = breakdown(s, "month")
        by_week = breakdown(s, "week", tz="Asia/Shanghai")
    assert by_tier[1]["count"] == 2 and by_tier[1]["within_60"] == 0.5 and by_tier[1]["within_300"] == 1.0
    assert by_tier[1]["within_tier_target"] == 0.5  # tier 1 target 60 s: only day 1 made it
    assert by_tier[2]["within_tier_target"] == 0.5  # tier 2 target 180 s: 200 s is late
    assert by_zone[("gate", 1)]["on_scene_median_s"] == 50 and by_zone[("yard", 1)]["ack_median_s"] == 20
    assert sorted(k for k, _ in by_day) == ["2027-01-15", "2027-01-15", "2027-01-16", "2027-01-16"]
    assert by_unit[("guard-near", 1)]["count"] == 2 and by_unit[("patrol-1", 2)]["within_180"] == 0.5
    assert {r["key"] for r in by_month} == {"2027-01"}
    assert all("(W02)" in r["key"] or "(W03)" in r["key"] for r in by_week)
    text = to_csv(breakdown_rows := list(by_tier.values()))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(breakdown_rows) and parsed[0]["within_60"] == "0.5"


def test_drills_left_out_unless_asked(engine, sessions, clock):
    from api.dispatch.drills import run_drill

    run_drill(engine, lat=31.2304, lon=121.4737, severity="low", actor="operator:a", origin="x")
    with sessions() as s:
        assert breakdown(s, "tier") == []
        assert breakdown(s, "tier", drills=True)[0]["count"] == 1


def test_coverage_from_posts(engine, sessions):
    cfg = engine.config.model_copy(update={"points_of_interest": [
        PointOfInterest(id="near", **north_of(50)), PointOfInterest(id="far", **north_of(5000))]})
    engine.handle_alert(make_alert(severity="low", source="cam-7", zone="gate"))
    with sessions() as s:
        rep = coverage(s, cfg)
    places = {p["id"]: p for p in rep["places"]}
    assert set(places) == {"near", "far", "cam-7/gate"}
    near = places["near"]["tiers"]
    assert near["1"]["best_unit"] == "guard-near" and near["1"]["in_time"] is True  # 50 m × 1.3 / 2 m/s
    assert places["far"]["tiers"]["1"]["in_time"] is False
    assert places["far"]["tiers"]["3"]["best_unit"] == "station-1"
    # The alert location is 100 m from guard-near: 65 s, just over the 60 s promise.
    assert places["cam-7/gate"]["tiers"]["1"]["eta_s"] == pytest.approx(65, abs=0.5)
    assert rep["summary"]["1"] == {"places": 3, "covered": 1}
    assert rep["gaps"][0]["place"] == "far"


@pytest.fixture
def client(settings, clock):
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


def test_report_routes(client, clock):
    op = {"Authorization": "Bearer tok-operator"}
    client.app_state.engine.handle_alert(make_alert(severity="high"))
    r = client.get("/api/reports/breakdown.csv?by=zone", headers=op)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0].startswith("key,tier,count")
    r = client.get("/api/reports/chart.png?by=day", headers=op)
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/api/reports/breakdown?by=decade", headers=op).status_code == 422
    assert client.get("/api/reports/breakdown?by=day&tz=Mars/Olympus", headers=op).status_code == 422
    cov = client.get("/api/reports/coverage", headers=op).json()
    assert cov["summary"]["1"]["places"] == 1
    rt = client.get("/api/reports/response-times", headers=op).json()["tiers"]["1"]
    assert rt["count"] == 1 and rt["on_scene_histogram"]["not_reached"] == 1
    assert len(rt["ack_histogram"]["bins"]) == 7


def test_response_time_histograms(engine, sessions, clock):
    """Tier 1 (severity low orders tier 1 only): on scene at 50, 200 and 700 s, one never reached;
    acknowledged at 10, 30 and 45 s. Bins are [from, to) seconds, so 30 s falls in [30, 60)."""
    from api.reports import BIN_EDGES, response_times

    for n, (ack, scene) in enumerate([(10, 50), (30, 200), (45, 700)]):
        i = engine.handle_alert(make_alert(severity="low", zone=f"z{n}", observed=clock(), track=n + 1))
        _respond(engine, sessions, clock, i, ack, scene)
        clock.advance(DAY)
    engine.handle_alert(make_alert(severity="low", zone="z9", observed=clock(), track=9))  # nobody comes
    with sessions() as s:
        rep = response_times(s)
        none = response_times(s, nodes=set())  # a node with no incidents: empty bins, not missing
    assert rep["bin_edges_s"] == list(BIN_EDGES) == [0, 30, 60, 120, 180, 300, 600]
    t1 = rep["tiers"]["1"]
    assert t1["count"] == 4 and t1["deadline_s"] == 60
    scene = t1["on_scene_histogram"]
    assert [b["count"] for b in scene["bins"]] == [0, 1, 0, 0, 1, 0, 1] and scene["not_reached"] == 1
    assert scene["bins"][-1] == {"from_s": 600, "to_s": None, "count": 1}
    ack = t1["ack_histogram"]
    assert [b["count"] for b in ack["bins"]] == [1, 2, 0, 0, 0, 0, 0] and ack["not_reached"] == 1
    # The existing summary agrees with the bins (nearest-rank over reached incidents only).
    assert t1["on_scene_median_s"] == 200 and t1["within"]["60"] == 0.25
    assert rep["tiers"]["2"]["on_scene_histogram"]["not_reached"] == 0
    assert rep["tiers"]["3"]["deadline_s"] == 300
    empty = none["tiers"]["1"]["on_scene_histogram"]
    assert sum(b["count"] for b in empty["bins"]) == 0 and empty["not_reached"] == 0
