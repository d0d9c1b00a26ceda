"""Where would a new post close the largest gap: the suggestion lands in the uncovered cluster."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.config import PointOfInterest
from api.coverage import coverage, suggestions
from api.dispatch.eta import haversine_m
from tests.api.conftest import SCENE, dispatch_config
from tests.api.test_roads import RIVER, at


def poi(pid: str, x_m: float, y_m: float) -> PointOfInterest:
    lat, lon = at(x_m, y_m)
    return PointOfInterest(id=pid, lat=lat, lon=lon)


# Cluster A sits around the guards' posts (covered); cluster B is 2 km east, cluster C 2 km north-west.
CLUSTER_A = [poi("a1", 0, 50), poi("a2", 20, 80)]
CLUSTER_B = [poi("b1", 2000, 0), poi("b2", 2030, 20), poi("b3", 2010, 40)]
CLUSTER_C = [poi("c1", -1500, 1500), poi("c2", -1480, 1520)]


def centroid(ps: list[PointOfInterest]) -> tuple[float, float]:
    return sum(p.lat for p in ps) / len(ps), sum(p.lon for p in ps) / len(ps)


def test_suggestion_lands_in_the_uncovered_cluster(engine, sessions):
    cfg = engine.config.model_copy(update={"points_of_interest": CLUSTER_A + CLUSTER_B + CLUSTER_C})
    with sessions() as s:
        out = suggestions(s, cfg, tier=1, count=3)
    assert sorted(out["uncovered_before"]) == ["b1", "b2", "b3", "c1", "c2"]
    assert out["unit_type"] == "guard" and out["unit_speed_mps"] == 2.0
    first, second = out["suggestions"][:2]
    # The larger gap first: one post among b1..b3 reaches all three within 60 s at 2 m/s × 1.3 detour.
    assert sorted(first["newly_covered"]) == ["b1", "b2", "b3"]
    assert haversine_m(first["lat"], first["lon"], *centroid(CLUSTER_B)) < 60
    assert all(v <= 60 for v in first["etas_s"].values())
    assert sorted(second["newly_covered"]) == ["c1", "c2"]
    assert haversine_m(second["lat"], second["lon"], *centroid(CLUSTER_C)) < 60
    # Nothing left to cover: the greedy stops rather than suggest a useless third post.
    assert len(out["suggestions"]) == 2 and out["still_uncovered"] == []


def test_grid_alone_finds_the_cluster(engine, sessions):
    """Without the places as candidates (configured sites only), the grid still finds the gap."""
    grid = [PointOfInterest(id=f"g{i}-{j}", lat=SCENE[0] + i * 0.002, lon=SCENE[1] + j * 0.002)
            for i in range(-2, 3) for j in range(-2, 14)]
    cfg = engine.config.model_copy(update={"points_of_interest": CLUSTER_A + CLUSTER_B, "candidate_posts": grid})
    with sessions() as s:
        out = suggestions(s, cfg, tier=1, count=1)
    best = out["suggestions"][0]
    assert out["candidate_sites"] == len(grid) and best["site"].startswith("g")
    assert len(best["newly_covered"]) >= 2
    assert haversine_m(best["lat"], best["lon"], *centroid(CLUSTER_B)) < 150


def test_tier_speed_and_deadline_shape_the_answer(engine, sessions):
    cfg = engine.config.model_copy(update={"points_of_interest": CLUSTER_A + CLUSTER_B})
    with sessions() as s:
        t2 = suggestions(s, cfg, tier=2, count=1)
        rep = coverage(s, cfg)
    # Tier 2 (patrol cars, 8 m/s, 180 s): the posts 900 m and 1500 m north reach cluster A but not
    # B (2 km east, ~2.2 km away × 1.3 / 8 ≈ 360 s).
    assert t2["unit_type"] == "patrol_car" and t2["deadline_s"] == 180
    assert sorted(t2["suggestions"][0]["newly_covered"]) == ["b1", "b2", "b3"]
    # The coverage report carries the best single new post per tier with a gap.
    assert sorted(rep["suggestions"]["1"]["newly_covered"]) == ["b1", "b2", "b3"]


def test_road_graph_coverage(tmp_path, make_engine, sessions):
    """Across the river the straight line says covered; the road says not, and the new post goes
    on the far bank."""
    from api.config import Responder
    from api.dispatch.roads import load_geojson

    eng = make_engine()
    lat, lon = at(0, 0)
    eng.upsert_responders([Responder(id="car-west", name="c", type="patrol_car", post={"lat": lat, "lon": lon})])
    p = tmp_path / "roads.geojson"
    p.write_text(json.dumps(RIVER))
    cfg = eng.config.model_copy(update={"points_of_interest": [poi("east-bank", 150, 0)]})
    with sessions() as s:
        # 150 m × 1.3 / 8 m/s ≈ 24 s in a straight line.
        assert coverage(s, cfg)["places"][0]["tiers"]["2"]["in_time"] is True
    cfg._road_graph = load_geojson(p, max_snap_m=50)
    with sessions() as s:
        rep = coverage(s, cfg)
        sug = suggestions(s, cfg, tier=2, count=1)
    # By road: 1 km up, over the bridge, 1 km down ≈ 269 s > 180 s.
    assert rep["places"][0]["tiers"]["2"]["eta_s"] == pytest.approx(268.8, abs=2)
    assert rep["places"][0]["tiers"]["2"]["in_time"] is False
    best = sug["suggestions"][0]
    assert best["newly_covered"] == ["east-bank"] and best["lon"] > at(150, 0)[1] - 0.0005  # on the east bank


def test_suggestions_route(settings, clock):
    cfg = dispatch_config().model_dump(mode="json")
    cfg["points_of_interest"] = [p.model_dump() for p in CLUSTER_A]
    (settings.config_dir / "dispatch.yaml").write_text(json.dumps(cfg))
    lat, lon = centroid(CLUSTER_B)
    (settings.config_dir / "cameras.yaml").write_text(json.dumps({"cameras": [
        {"id": "cam-east", "name": "East", "url": "rtsp://x", "location": {"lat": lat, "lon": lon}}]}))
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        op = {"Authorization": "Bearer tok-operator"}
        r = c.get("/api/coverage/suggestions?tier=1&count=2", headers=op)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["uncovered_before"] == ["cam-east"]
        assert body["suggestions"][0]["newly_covered"] == ["cam-east"]
        assert haversine_m(body["suggestions"][0]["lat"], body["suggestions"][0]["lon"], lat, lon) < 60
        assert c.get("/api/coverage/suggestions?tier=4", headers=op).status_code == 422
        unit = {"Authorization": "Bearer tok-unit"}
        assert c.get("/api/coverage/suggestions?tier=1", headers=unit).status_code == 403
