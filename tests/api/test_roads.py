"""Road-graph ETA: a river with one bridge makes the unit across it slow, whatever the straight line says."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from api.config import DispatchFile, Policy, Responder, RoadsConfig, load_api_config
from api.dispatch import roads as road_graphs
from api.dispatch.engine import DispatchEngine
from api.dispatch.roads import RoadGraphError, load_geojson, load_matrix
from api.dispatch.selection import rank
from api.store import OrderRow
from rules.configfile import ConfigError
from tests.api.conftest import SCENE, make_alert

M_PER_DEG = 111_195.0


def at(x_m: float, y_m: float) -> tuple[float, float]:
    """(lat, lon) x metres east and y metres north of the scene."""
    return SCENE[0] + y_m / M_PER_DEG, SCENE[1] + x_m / (M_PER_DEG * math.cos(math.radians(SCENE[0])))


def lonlat(x_m: float, y_m: float) -> list[float]:
    lat, lon = at(x_m, y_m)
    return [lon, lat]


def line(*pts: tuple[float, float], **props) -> dict:  # noqa: ANN003
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": [lonlat(*p) for p in pts]}}


# A river runs north-south between x=0 (west bank, the scene) and x=150 (east bank); the only
# bridge is 1 km north. West-bank road x=0 from y=0 to 1000, bridge, east-bank road back down.
RIVER = {"type": "FeatureCollection", "features": [
    line((0, 0), (0, 300), (0, 600), (0, 1000)),
    line((0, 1000), (150, 1000), oneway=True, mode=["foot", "car"]),  # the bridge, one-way eastbound for cars
    {"type": "Feature", "properties": {"speed_kmh": 30}, "geometry": {"type": "MultiLineString", "coordinates": [
        [lonlat(150, 1000), lonlat(150, 500)], [lonlat(150, 500), lonlat(150, 0)]]}},
]}


@pytest.fixture
def river(tmp_path):
    p = tmp_path / "roads.geojson"
    p.write_text(json.dumps(RIVER))
    return p


def units(*rows: tuple[str, str, tuple[float, float], int, float]) -> list[tuple]:
    """Rows in RANK_COLUMNS order: (id, type, post, tier, speed)."""
    return [(i, tier, "available", speed, None, None, None, post[0], post[1], typ)
            for i, typ, post, tier, speed in rows]


ACROSS = ("guard-across", "guard", at(150, 0), 1, 2.0)  # 150 m away, but across the river
UPSTREAM = ("guard-upstream", "guard", at(0, 600), 1, 2.0)  # 600 m up the same bank


def test_river_detour_ranks_the_far_unit_first(river):
    g = load_geojson(river, max_snap_m=50)
    straight = rank(units(ACROSS, UPSTREAM), tier=1, target=SCENE, now=0, detour_factor=1.3, stale_s=300)
    assert [c.responder_id for c in straight] == ["guard-across", "guard-upstream"]
    assert straight[0].eta.method == "straight"
    road = rank(units(ACROSS, UPSTREAM), tier=1, target=SCENE, now=0, detour_factor=1.3, stale_s=300, roads=g)
    assert [c.responder_id for c in road] == ["guard-upstream", "guard-across"]
    assert {c.eta.method for c in road} == {"road"}
    by_id = {c.responder_id: c.eta for c in road}
    # Up 1 km, over 150 m, down 1 km at 2 m/s; the 600 m unit walks 600 m.
    assert by_id["guard-across"].seconds == pytest.approx(2150 / 2.0, rel=0.01)
    assert by_id["guard-across"].distance_m == pytest.approx(2150, rel=0.01)
    assert by_id["guard-upstream"].seconds == pytest.approx(600 / 2.0, rel=0.01)


def test_snap_leg_and_fallback_beyond_max_snap(river):
    g = load_geojson(river, max_snap_m=50)
    near = ("near", "guard", at(30, 300), 1, 2.0)  # 30 m off the west road
    lost = ("lost", "guard", at(-3000, 0), 1, 2.0)  # 3 km from any node
    out = {c.responder_id: c.eta for c in rank(units(near, lost), tier=1, target=SCENE, now=0,
                                                 detour_factor=1.3, stale_s=300, roads=g)}
    assert out["near"].method == "road" and out["near"].seconds == pytest.approx((30 + 300) / 2.0, rel=0.01)
    assert out["lost"].method == "straight_fallback"
    assert out["lost"].seconds == pytest.approx(3000 * 1.3 / 2.0, rel=0.01)
    # A scene far from the graph: everyone straight-line.
    far_scene = at(5000, 5000)
    assert {c.eta.method for c in rank(units(near), tier=1, target=far_scene, now=0, detour_factor=1.3,
                                        stale_s=300, roads=g)} == {"straight_fallback"}


def test_modes_oneway_and_speed_limit(river):
    g = load_geojson(river, max_snap_m=50)
    # The scene on the east bank: a car from the west bank crosses the one-way bridge eastbound,
    # then drives the east road at its 30 km/h limit, slower than the car's own 12 m/s.
    east_scene = at(150, 0)
    car_west = ("car-west", "patrol_car", at(0, 0), 2, 12.0)  # faster than the 30 km/h limit
    c = rank(units(car_west), tier=2, target=east_scene, now=0, detour_factor=1.3, stale_s=300, roads=g)[0]
    assert c.eta.method == "road"
    assert c.eta.seconds == pytest.approx(1150 / 12.0 + 1000 / (30 / 3.6), rel=0.01)
    # Back west: cars may not use the bridge westbound (no other crossing) → straight-line fallback;
    # a guard on foot may walk against the one-way.
    car_east = ("car-east", "patrol_car", at(150, 0), 2, 8.0)
    guard_east = ("guard-east", "guard", at(150, 0), 2, 2.0)
    out = {c.responder_id: c.eta for c in rank(units(car_east, guard_east), tier=2, target=SCENE, now=0,
                                                 detour_factor=1.3, stale_s=300, roads=g)}
    assert out["car-east"].method == "straight_fallback"
    assert out["guard-east"].method == "road"
    # Drones fly: never the graph.
    drone = ("drone-1", "drone", at(150, 0), 3, 12.0)
    assert rank(units(drone), tier=3, target=SCENE, now=0, detour_factor=1.0, stale_s=300,
                roads=g)[0].eta.method == "straight_fallback"


def test_one_dijkstra_per_travel_class_not_per_unit(river, monkeypatch):
    g = load_geojson(river, max_snap_m=50)
    calls = []
    real = road_graphs.RoadGraph.seconds_to

    def counting(self, *a):  # noqa: ANN001, ANN002
        calls.append(a)
        return real(self, *a)

    monkeypatch.setattr(road_graphs.RoadGraph, "seconds_to", counting)
    many = [(f"g{i}", "guard", at(0, 10 * i), 1, 2.0) for i in range(100)]
    many += [(f"c{i}", "patrol_car", at(150, 5 * i), 1, 8.0) for i in range(100)]
    out = rank(units(*many), tier=1, target=SCENE, now=0, detour_factor=1.3, stale_s=300, roads=g, limit=3)
    assert [c.responder_id for c in out] == ["g0", "g1", "g2"]
    assert len(calls) == 2  # foot at 2 m/s, car at 8 m/s


def test_engine_dispatches_by_road(tmp_path, sessions, clock, river):
    cfg_dir = river.parent
    (cfg_dir / "dispatch.yaml").write_text("policies:\n  low: {tiers: [1]}\nroads:\n  geojson: roads.geojson\n"
                                           "  max_snap_m: 50\n")
    cfg = load_api_config(cfg_dir)
    assert cfg.dispatch.road_graph is not None and cfg.dispatch.road_graph.node_count == 7
    eng = DispatchEngine(sessions, cfg, clock)
    eng.upsert_responders([Responder(id=i, name=i, type=t, post={"lat": p[0], "lon": p[1]})
                           for i, t, p, _, _ in (ACROSS, UPSTREAM)])
    iid = eng.handle_alert(make_alert(severity="low", observed=clock()))
    with sessions() as s:
        o = s.query(OrderRow).filter_by(incident_id=iid).one()
    assert o.responder_id == "guard-upstream" and o.eta_s == pytest.approx(300, rel=0.01)


def test_config_needs_exactly_one_source():
    with pytest.raises(ValueError, match="exactly one"):
        RoadsConfig()
    with pytest.raises(ValueError, match="exactly one"):
        RoadsConfig(geojson="a.geojson", travel_time_matrix="m.csv")
    assert DispatchFile(policies={"low": Policy(tiers=[1])}).road_graph is None


@pytest.mark.parametrize(("feature", "message"), [
    ({"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [121.4, 31.2]}},
     "feature 1: geometry type 'Point' is not LineString"),
    (line((0, 0), (0, 100), speed_kmh=-5), "feature 1: property 'speed_kmh' must be a positive number"),
    (line((0, 0), (0, 100), mode="boat"), "feature 1: property 'mode' must be one of"),
    (line((0, 0), (0, 100), oneway="yes"), "feature 1: property 'oneway' must be true or false"),
    ({"type": "Feature", "properties": {},
      "geometry": {"type": "LineString", "coordinates": [[31.2, 121.4], [31.3, 121.4]]}},
     r"feature 1 position 0: position \[31.2, 121.4\] is outside"),
    ({"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[121.4, 31.2]]}},
     "feature 1: a line needs at least 2 positions"),
])
def test_geojson_errors_name_file_feature_and_problem(tmp_path, feature, message):
    p = tmp_path / "bad.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [line((0, 0), (0, 10)), feature]}))
    with pytest.raises(RoadGraphError, match=message) as e:
        load_geojson(p, max_snap_m=50)
    assert str(p) in str(e.value)


def test_load_api_config_reports_a_bad_road_file(tmp_path):
    """At load the error names dispatch.yaml's line of `roads:`, the road file, and what is wrong in it."""
    (tmp_path / "dispatch.yaml").write_text("detour_factor: 1.2\nroads:\n  geojson: missing.geojson\n")
    with pytest.raises(ConfigError, match=r"dispatch.yaml:2 roads: .*missing.geojson: cannot read"):
        load_api_config(tmp_path)
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureCollection",\n "features": [}')
    (tmp_path / "dispatch.yaml").write_text("roads:\n  geojson: broken.geojson\n")
    with pytest.raises(ConfigError, match=r"broken.geojson:2: not valid JSON"):
        load_api_config(tmp_path)
    # Without a config folder (the schema check alone) the file is not opened.
    assert DispatchFile.model_validate({"roads": {"geojson": "missing.geojson"}}).road_graph is None


def test_travel_time_matrix(tmp_path):
    a, b, c = at(0, 0), at(0, 500), at(500, 500)
    p = tmp_path / "tt.csv"
    p.write_text("id,lat,lon,A,B,C\n"
                 f"A,{a[0]},{a[1]},,60,\n"
                 f"B,{b[0]},{b[1]},60,,200\n"
                 f"C,{c[0]},{c[1]},,200,\n")
    g = load_matrix(p, max_snap_m=50)
    # From C to the scene (A): C→B→A = 260 s from the matrix, whatever the unit's speed.
    out = rank(units(("at-c", "guard", c, 1, 2.0)), tier=1, target=SCENE, now=0, detour_factor=1.3,
               stale_s=300, roads=g)
    assert out[0].eta.method == "road" and out[0].eta.seconds == pytest.approx(260)
    p.write_text("id,lat,lon,A,B\nA,31.2,121.4,,x\nB,31.2,121.5,5,\n")
    with pytest.raises(RoadGraphError, match=r"tt.csv: line 2, column 'B': 'x' is not a number"):
        load_matrix(p, max_snap_m=50)
    p.write_text("id,lat,lon,A,B\nA,31.2,121.4,,5\n")
    with pytest.raises(RoadGraphError, match="row ids and header ids differ"):
        load_matrix(p, max_snap_m=50)


def test_snap_is_vectorised_and_handles_missing_positions(river):
    g = load_geojson(river, max_snap_m=50)
    lat = np.array([at(0, 0)[0], np.nan, at(150, 1000)[0]])
    lon = np.array([at(0, 0)[1], np.nan, at(150, 1000)[1]])
    idx, dist = g.snap(lat, lon)
    assert idx[1] == -1 and math.isinf(dist[1]) and dist[0] < 1 and dist[2] < 1 and idx[0] != idx[2]
