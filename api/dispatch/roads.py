"""Road/path graph ETA: snap to the nearest node, walk or drive the shortest path.

Two sources (dispatch.yaml `roads:`): a GeoJSON file of LineString/MultiLineString features
(optional properties `speed_kmh`: speed limit, `mode`: who may use it, `oneway`: vehicles follow
the coordinate order only), or a CSV travel-time matrix between named nodes. Lines meet where they
share a vertex (as in OpenStreetMap exports); crossing without a shared vertex is a bridge, not a
junction.

Efficiency: a decision runs one Dijkstra from the incident over the reversed graph per travel
class (mode and speed) among its candidates, not one per responder; scipy's compiled csgraph does
it (a few ms on city-sized graphs, ~10x faster than a pure-Python Dijkstra), and every candidate's
ETA is then one array lookup. The sparse matrix per class is cached: unit speeds come from a few
defaults, so classes repeat across decisions.

A position further than `max_snap_m` from every node (or a node the target cannot be reached
from) falls back to the straight line × detour factor, flagged `straight_fallback` in the ETA.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
FOOT, BIKE, CAR = 1, 2, 4
ALL_GROUND = FOOT | BIKE | CAR
MODE_BITS = {"foot": FOOT, "bike": BIKE, "car": CAR, "all": ALL_GROUND}
# Responder type → how it travels. Drones fly: they never use the graph.
TYPE_MODE: dict[str, str] = {
    "guard": "foot", "volunteer": "foot", "grid_member": "foot", "foot_patrol": "foot", "community_police": "foot",
    "ebike_patrol": "bike", "patrol_car": "car", "station_force": "car", "special_unit": "car", "drone": "air",
}


class RoadGraphError(ValueError):
    """A road file that cannot be used; the message names the file, the feature/row and the problem."""


@dataclass(frozen=True)
class RoadEtas:
    seconds: np.ndarray  # nan where the graph could not be used (fallback to straight line)
    distance_m: np.ndarray  # travelled distance: snap legs + path (equivalent metres for matrix graphs)


class RoadGraph:
    """An immutable directed graph over projected node coordinates; built once at config load."""

    def __init__(self, node_ll: np.ndarray, src: np.ndarray, dst: np.ndarray, length_m: np.ndarray,
                 cap_mps: np.ndarray, modes: np.ndarray, *, fixed_seconds: bool, max_snap_m: float, name: str):
        self.node_ll = node_ll  # (n, 2) lat, lon
        self.lat0 = float(np.mean(node_ll[:, 0]))
        self.xy = self._project(node_ll[:, 0], node_ll[:, 1])
        self.tree = cKDTree(self.xy)
        self.src, self.dst, self.length_m, self.cap_mps, self.modes = src, dst, length_m, cap_mps, modes
        # Matrix graphs carry seconds, not metres: `length_m` then holds seconds and speed is ignored.
        self.fixed_seconds = fixed_seconds
        self.max_snap_m = max_snap_m
        self.name = name
        self._reversed = lru_cache(maxsize=32)(self._build_reversed)

    @property
    def node_count(self) -> int:
        return len(self.node_ll)

    def _project(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Equirectangular metres around the graph's mean latitude: exact enough within a city."""
        k = math.cos(math.radians(self.lat0))
        return np.column_stack([np.radians(lon) * EARTH_RADIUS_M * k, np.radians(lat) * EARTH_RADIUS_M])

    def snap(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node index and distance (m) per point; distance inf (index -1) beyond `max_snap_m`."""
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        ok = ~np.isnan(lat) & ~np.isnan(lon)
        dist = np.full(len(lat), np.inf)
        idx = np.full(len(lat), -1)
        if ok.any():
            d, i = self.tree.query(self._project(lat[ok], lon[ok]), distance_upper_bound=self.max_snap_m)
            found = np.isfinite(d)
            dist[np.flatnonzero(ok)[found]] = d[found]
            idx[np.flatnonzero(ok)[found]] = i[found]
        return idx, dist

    def _build_reversed(self, mode_bit: int, speed: float) -> csr_matrix:
        """Edge weights in seconds for one travel class, transposed so Dijkstra from the target
        gives every node's time *to* the target. Parallel edges keep the fastest."""
        keep = (self.modes & mode_bit) != 0
        if self.fixed_seconds:
            w = self.length_m[keep]
        else:
            w = self.length_m[keep] / np.minimum(speed, self.cap_mps[keep])
        r, c = self.dst[keep], self.src[keep]
        order = np.lexsort((w, c, r))
        r, c, w = r[order], c[order], w[order]
        first = np.ones(len(r), bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        n = self.node_count
        # Explicit zero weights would read as "no edge" to some csgraph paths: clamp to a nanosecond.
        return coo_matrix((np.maximum(w[first], 1e-9), (r[first], c[first])), shape=(n, n)).tocsr()

    def seconds_to(self, target_node: int, mode_bit: int, speed: float) -> np.ndarray:
        """Seconds from every node to `target_node` for one travel class (inf: unreachable)."""
        return dijkstra(self._reversed(mode_bit, round(float(speed), 3)), directed=True, indices=target_node)

    def etas(self, target: tuple[float, float], lat: np.ndarray, lon: np.ndarray, speed: np.ndarray,
             types: np.ndarray) -> RoadEtas:
        """Road ETA per origin; nan where it falls back (drone, off the graph, unreachable)."""
        n = len(lat)
        secs, dist = np.full(n, np.nan), np.full(n, np.nan)
        tnode, tdist = self.snap(np.array([target[0]]), np.array([target[1]]))
        if tnode[0] < 0:
            log.warning("road graph %s: incident at %.6f,%.6f is more than %.0f m from any node; straight-line ETA",
                        self.name, target[0], target[1], self.max_snap_m)
            return RoadEtas(secs, dist)
        onode, odist = self.snap(lat, lon)
        mode_bits = np.array([MODE_BITS.get(TYPE_MODE.get(str(t), "foot"), 0) for t in types], dtype=np.int64)
        usable = (onode >= 0) & (mode_bits > 0) & (speed > 0)
        legs = odist + tdist[0]  # walk/drive to the graph and from it to the scene, at the unit's own speed
        # One Dijkstra per travel class: few classes, however many units.
        classes = {(int(b), float(v)) for b, v in zip(mode_bits[usable], speed[usable], strict=True)}
        for bit, v in classes:
            sel = usable & (mode_bits == bit) & (speed == v)
            path = self.seconds_to(int(tnode[0]), bit, v)[onode[sel]]
            secs[sel] = legs[sel] / v + path
            dist[sel] = legs[sel] + path * v  # matrix graphs: metres the unit would cover in that time
        unreachable = usable & ~np.isfinite(secs)
        secs[~np.isfinite(secs)] = np.nan
        dist[np.isnan(secs)] = np.nan
        off = int(np.count_nonzero(~usable & (mode_bits > 0) & ~np.isnan(np.asarray(lat, float))))
        if off or unreachable.any():
            log.info("road graph %s: %d unit(s) off the graph, %d with no path to the scene: straight-line ETA",
                     self.name, off, int(unreachable.sum()))
        return RoadEtas(secs, dist)


# ---- loading -----------------------------------------------------------------------------------

def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _modes_of(value: Any, where: str) -> int:
    if value is None:
        return ALL_GROUND
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or any(n not in MODE_BITS for n in names):
        raise RoadGraphError(f"{where}: property 'mode' must be one of {sorted(MODE_BITS)} or a list of them, "
                             f"got {value!r}")
    bits = 0
    for n in names:
        bits |= MODE_BITS[n]
    return bits


def _coord(pt: Any, where: str) -> tuple[float, float]:
    if (not isinstance(pt, list | tuple) or len(pt) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pt[:2])):
        raise RoadGraphError(f"{where}: a position must be [lon, lat] numbers, got {pt!r}")
    lon, lat = float(pt[0]), float(pt[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise RoadGraphError(f"{where}: position [{lon}, {lat}] is outside lon -180..180 / lat -90..90 "
                             "(GeoJSON order is [lon, lat])")
    return lat, lon


class _Builder:
    def __init__(self) -> None:
        self.ids: dict[tuple[float, float], int] = {}
        self.ll: list[tuple[float, float]] = []
        self.edges: list[tuple[int, int, float, float, int]] = []

    def node(self, lat: float, lon: float) -> int:
        key = (round(lat, 7), round(lon, 7))  # ~1 cm: vertices shared by two lines join them
        if key not in self.ids:
            self.ids[key] = len(self.ll)
            self.ll.append((lat, lon))
        return self.ids[key]

    def graph(self, *, fixed_seconds: bool, max_snap_m: float, name: str) -> RoadGraph:
        if not self.edges:
            raise RoadGraphError(f"{name}: no usable segment (the graph would be empty)")
        e = np.array(self.edges, dtype=float)
        return RoadGraph(np.array(self.ll, float), e[:, 0].astype(np.int64), e[:, 1].astype(np.int64), e[:, 2],
                         e[:, 3], e[:, 4].astype(np.int64), fixed_seconds=fixed_seconds, max_snap_m=max_snap_m,
                         name=name)


def load_geojson(path: Path | str, *, max_snap_m: float) -> RoadGraph:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoadGraphError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise RoadGraphError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise RoadGraphError(f"{path}: expected a GeoJSON FeatureCollection with a 'features' list")
    b = _Builder()
    for i, f in enumerate(doc["features"]):
        where = f"{path}: feature {i}"
        if not isinstance(f, dict) or not isinstance(f.get("geometry"), dict):
            raise RoadGraphError(f"{where}: not a Feature with a geometry")
        props = f.get("properties") or {}
        if not isinstance(props, dict):
            raise RoadGraphError(f"{where}: 'properties' must be an object")
        g = f["geometry"]
        if g.get("type") == "LineString":
            lines = [g.get("coordinates")]
        elif g.get("type") == "MultiLineString":
            lines = g.get("coordinates") if isinstance(g.get("coordinates"), list) else [None]
        else:
            raise RoadGraphError(f"{where}: geometry type {g.get('type')!r} is not LineString or MultiLineString")
        speed = props.get("speed_kmh")
        if speed is not None and (not isinstance(speed, int | float) or isinstance(speed, bool) or speed <= 0):
            raise RoadGraphError(f"{where}: property 'speed_kmh' must be a positive number, got {speed!r}")
        cap = float(speed) / 3.6 if speed is not None else math.inf
        modes = _modes_of(props.get("mode"), where)
        oneway = props.get("oneway", False)
        if not isinstance(oneway, bool):
            raise RoadGraphError(f"{where}: property 'oneway' must be true or false, got {oneway!r}")
        for k, line in enumerate(lines):
            lw = where if len(lines) == 1 else f"{where} line {k}"
            if not isinstance(line, list) or len(line) < 2:
                raise RoadGraphError(f"{lw}: a line needs at least 2 positions")
            pts = [_coord(p, f"{lw} position {j}") for j, p in enumerate(line)]
            for (la1, lo1), (la2, lo2) in zip(pts, pts[1:], strict=False):
                u, v = b.node(la1, lo1), b.node(la2, lo2)
                if u == v:
                    continue
                d = _haversine(la1, lo1, la2, lo2)
                b.edges.append((u, v, d, cap, modes))
                # One-way binds vehicles; people on foot may walk against it.
                b.edges.append((v, u, d, cap, (modes & FOOT) if oneway else modes))
    return b.graph(fixed_seconds=False, max_snap_m=max_snap_m, name=str(path))


def load_matrix(path: Path | str, *, max_snap_m: float) -> RoadGraph:
    """CSV: header `id,lat,lon,<id>,<id>,...`, then one row per node: its position and the seconds
    to each column's node (empty: no direct link). The times are used as given for every mode."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    except OSError as exc:
        raise RoadGraphError(f"{path}: cannot read: {exc.strerror or exc}") from None
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows or [c.strip() for c in rows[0][:3]] != ["id", "lat", "lon"]:
        raise RoadGraphError(f"{path}: line 1: header must start with id,lat,lon followed by the node ids")
    cols = [c.strip() for c in rows[0][3:]]
    if len(set(cols)) != len(cols):
        raise RoadGraphError(f"{path}: line 1: duplicate node id in the header")
    b = _Builder()
    index: dict[str, int] = {}
    for ln, r in enumerate(rows[1:], start=2):
        if len(r) != 3 + len(cols):
            raise RoadGraphError(f"{path}: line {ln}: {len(r)} cells, the header has {3 + len(cols)}")
        nid = r[0].strip()
        if nid in index:
            raise RoadGraphError(f"{path}: line {ln}: node {nid!r} appears twice")
        try:
            lat, lon = float(r[1]), float(r[2])
        except ValueError:
            raise RoadGraphError(f"{path}: line {ln}: lat/lon of {nid!r} are not numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise RoadGraphError(f"{path}: line {ln}: lat/lon of {nid!r} out of range")
        # One node per id even when two share a position: the matrix names them apart.
        index[nid] = len(b.ll)
        b.ll.append((lat, lon))
    if set(index) != set(cols):
        raise RoadGraphError(f"{path}: row ids and header ids differ: "
                             f"{sorted(set(index) ^ set(cols))[:5]}")
    for ln, r in enumerate(rows[1:], start=2):
        u = index[r[0].strip()]
        for cid, cell in zip(cols, r[3:], strict=True):
            cell = cell.strip()
            if not cell or index[cid] == u:
                continue
            try:
                secs = float(cell)
            except ValueError:
                raise RoadGraphError(
                    f"{path}: line {ln}, column {cid!r}: {cell!r} is not a number of seconds") from None
            if not secs >= 0 or math.isinf(secs):
                raise RoadGraphError(f"{path}: line {ln}, column {cid!r}: seconds must be >= 0, got {cell!r}")
            b.edges.append((u, index[cid], secs, math.inf, ALL_GROUND))
    return b.graph(fixed_seconds=True, max_snap_m=max_snap_m, name=str(path))
