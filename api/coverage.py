"""Coverage: for each place that needs cover, which tiers can reach it in time from their posts,
and where a new post would close the largest gap.

Places are the locations incidents have happened at (alerts carry their location), the cameras
of cameras.yaml when the caller passes them (a camera's fences are watched from its position),
plus `points_of_interest` from dispatch.yaml. ETAs use the posts, not live positions: coverage is
about the standing plan, not this minute. Off-duty units do not count. With a road graph
configured the ETAs follow it, as dispatch does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import DEFAULT_SPEED, DEFAULT_TIER, DispatchFile
from api.dispatch.eta import EARTH_RADIUS_M
from api.store.models import IncidentRow, ResponderRow

DEFAULT_DEADLINES = {1: 60.0, 2: 180.0, 3: 300.0}
GRID = 15  # candidate sites per side of the bounding box when none are configured
PAD_M = 100.0  # the grid reaches this far beyond the outermost places


def _deadlines(cfg: DispatchFile) -> dict[int, float]:
    """The tightest arrival deadline any policy sets per tier (that is the promise to keep)."""
    out = dict(DEFAULT_DEADLINES)
    seen: dict[int, float] = {}
    for p in cfg.policies.values():
        for tier, d in p.arrival_deadline_s.items():
            seen[tier] = min(d, seen.get(tier, d))
    out.update(seen)
    return out


def places(s: Session, cfg: DispatchFile, cameras: list[dict[str, Any]] | None = None,
           nodes: set[str] | None = None) -> list[dict[str, Any]]:
    """Places to cover: points of interest, located cameras, and where incidents happened (only
    incidents of `nodes` when the caller is org-scoped)."""
    out = [{"id": p.id, "kind": "point_of_interest", "lat": p.lat, "lon": p.lon} for p in cfg.points_of_interest]
    for c in cameras or []:
        if c.get("location"):
            out.append({"id": c["id"], "kind": "camera", "lat": c["location"]["lat"], "lon": c["location"]["lon"]})
    q = (select(IncidentRow.source_id, IncidentRow.zone, func.avg(IncidentRow.lat), func.avg(IncidentRow.lon),
                func.count()).where(IncidentRow.lat.is_not(None), IncidentRow.drill.is_(False))
         .where(IncidentRow.node.in_(nodes) if nodes is not None else IncidentRow.id.is_not(None))
         .group_by(IncidentRow.source_id, IncidentRow.zone).order_by(IncidentRow.source_id, IncidentRow.zone))
    for source, zone, lat, lon, n in s.execute(q).all():
        out.append({"id": f"{source}/{zone}" if zone else source, "kind": "alert_location", "lat": float(lat),
                    "lon": float(lon), "incidents": n})
    return out


def etas_to(place: tuple[float, float], lat: np.ndarray, lon: np.ndarray, speed: np.ndarray, types: np.ndarray,
            cfg: DispatchFile) -> np.ndarray:
    """Seconds from each origin to `place`: the road graph where it places them, else the
    straight line × detour factor (the same rule dispatch uses)."""
    p1, p2 = np.radians(lat), np.radians(place[0])
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(place[1] - lon) / 2) ** 2
    secs = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))) * cfg.detour_factor / speed
    if cfg.road_graph is not None and len(lat):
        road = cfg.road_graph.etas(place, lat, lon, speed, types).seconds
        secs = np.where(np.isnan(road), secs, road)
    return secs


def _posts(s: Session, nodes: set[str] | None = None) -> dict[str, np.ndarray]:
    """On-duty units with a post, as arrays (the units of `nodes` when org-scoped)."""
    rows = [r for r in s.scalars(select(ResponderRow).order_by(ResponderRow.id))
            if r.status != "off_duty" and r.post_lat is not None and r.post_lon is not None
            and (nodes is None or r.node in nodes)]
    return {"id": np.array([r.id for r in rows], dtype=object), "tier": np.array([r.tier for r in rows], dtype=int),
            "lat": np.array([r.post_lat for r in rows], dtype=float),
            "lon": np.array([r.post_lon for r in rows], dtype=float),
            "speed": np.array([r.speed_mps for r in rows], dtype=float),
            "type": np.array([r.type for r in rows], dtype=object)}


def _best(posts: dict[str, np.ndarray], tier: int, place: dict[str, Any],
          cfg: DispatchFile) -> tuple[str, float] | None:
    m = posts["tier"] == tier
    if not m.any():
        return None
    secs = etas_to((place["lat"], place["lon"]), posts["lat"][m], posts["lon"][m], posts["speed"][m],
                   posts["type"][m], cfg)
    i = int(np.argmin(secs))  # ties: the first id (rows are ordered by id)
    return str(posts["id"][m][i]), float(secs[i])


def coverage(s: Session, cfg: DispatchFile, cameras: list[dict[str, Any]] | None = None,
             nodes: set[str] | None = None) -> dict[str, Any]:
    """Per place and tier: the nearest post's ETA against the deadline. `nodes` scopes it to an
    org node and below: its incident places and its own units (a station's own coverage)."""
    deadlines = _deadlines(cfg)
    posts = _posts(s, nodes)
    result = []
    for p in places(s, cfg, cameras, nodes):
        tiers: dict[str, Any] = {}
        for tier, deadline in sorted(deadlines.items()):
            best = _best(posts, tier, p, cfg)
            tiers[str(tier)] = {
                "deadline_s": deadline, "best_unit": best[0] if best else None,
                "eta_s": round(best[1], 1) if best else None, "in_time": bool(best and best[1] <= deadline),
            }
        result.append({**p, "tiers": tiers})
    summary = {str(t): {"places": len(result), "covered": sum(1 for r in result if r["tiers"][str(t)]["in_time"])}
               for t in sorted(deadlines)}
    # The worst gaps first: where the nearest post misses its tier deadline by the most.
    gaps = sorted(((r["id"], t, v["eta_s"] - v["deadline_s"] if v["eta_s"] is not None else None)
                  for r in result for t, v in r["tiers"].items() if not v["in_time"]),
                  key=lambda g: (g[2] is not None, -(g[2] or 0)))
    # Per tier with a gap: the one new post that would close most of it (GET /api/coverage/suggestions for more).
    best_new = {}
    for t in sorted(deadlines):
        if summary[str(t)]["covered"] < len(result):
            sug = _suggest(result, posts, cfg, t, deadlines[t], 1)
            best_new[str(t)] = sug["suggestions"][0] if sug["suggestions"] else None
    return {"places": result, "summary": summary,
            "gaps": [{"place": g[0], "tier": int(g[1]), "late_by_s": g[2]} for g in gaps],
            "suggestions": best_new}


# ---- where would a new post help most --------------------------------------------------------

def _new_post_unit(posts: dict[str, np.ndarray], tier: int) -> tuple[float, str]:
    """Speed and type of the unit a new post of `tier` would hold: the tier's typical unit (median
    speed, commonest type), or the type default when the tier has no unit yet."""
    m = posts["tier"] == tier
    if m.any():
        return float(np.median(posts["speed"][m])), Counter(posts["type"][m].tolist()).most_common(1)[0][0]
    typ = next(t for t, tr in DEFAULT_TIER.items() if tr == tier)
    return DEFAULT_SPEED[typ], typ


def candidate_sites(cfg: DispatchFile, pts: list[dict[str, Any]], grid: int = GRID) -> list[dict[str, Any]]:
    """Configured `candidate_posts`; else a grid over the places' bounding box (padded by PAD_M)
    plus the places themselves (a post right at a gate is often the answer)."""
    if cfg.candidate_posts:
        return [{"id": c.id, "lat": c.lat, "lon": c.lon} for c in cfg.candidate_posts]
    if not pts:
        return []
    lat = np.array([p["lat"] for p in pts])
    lon = np.array([p["lon"] for p in pts])
    dlat = PAD_M / 111_195.0
    dlon = dlat / max(0.01, np.cos(np.radians(lat.mean())))
    glat = np.linspace(lat.min() - dlat, lat.max() + dlat, grid)
    glon = np.linspace(lon.min() - dlon, lon.max() + dlon, grid)
    out = [{"id": None, "lat": float(a), "lon": float(o)} for a in glat for o in glon]
    return out + [{"id": f"at:{p['id']}", "lat": float(p["lat"]), "lon": float(p["lon"])} for p in pts]


def _suggest(result: list[dict[str, Any]], posts: dict[str, np.ndarray], cfg: DispatchFile, tier: int,
             deadline: float, count: int, grid: int = GRID) -> dict[str, Any]:
    """Greedy maximum coverage: each round picks the site that brings the most still-uncovered
    places within the tier deadline (ties: the smaller total ETA to them, then grid order).
    Greedy is within 1 - 1/e of the best set of `count` sites and runs in milliseconds."""
    speed, typ = _new_post_unit(posts, tier)
    uncovered = [r for r in result if not r["tiers"][str(tier)]["in_time"]]
    sites = candidate_sites(cfg, result, grid)
    base = {"tier": tier, "deadline_s": deadline, "unit_speed_mps": round(speed, 2), "unit_type": typ,
            "candidate_sites": len(sites), "uncovered_before": [r["id"] for r in uncovered]}
    if not uncovered or not sites:
        return {**base, "suggestions": [], "still_uncovered": [r["id"] for r in uncovered]}
    slat = np.array([c["lat"] for c in sites])
    slon = np.array([c["lon"] for c in sites])
    sp, ty = np.full(len(sites), speed), np.full(len(sites), typ, dtype=object)
    # eta[c, p]: seconds from site c to uncovered place p; one road Dijkstra per place.
    eta = np.column_stack([etas_to((p["lat"], p["lon"]), slat, slon, sp, ty, cfg) for p in uncovered])
    reach = eta <= deadline
    open_ = np.ones(len(uncovered), bool)
    out = []
    for _ in range(count):
        gain = (reach & open_).sum(axis=1)
        if gain.max() == 0:
            break
        cost = np.where(reach & open_, eta, 0.0).sum(axis=1)
        best = min(np.flatnonzero(gain == gain.max()), key=lambda c: cost[c])
        newly = np.flatnonzero(reach[best] & open_)
        open_[newly] = False
        site = sites[best]
        out.append({"lat": round(site["lat"], 6), "lon": round(site["lon"], 6), "site": site["id"],
                    "newly_covered": [uncovered[k]["id"] for k in newly],
                    "etas_s": {uncovered[k]["id"]: round(float(eta[best, k]), 1) for k in newly}})
    return {**base, "suggestions": out, "still_uncovered": [uncovered[k]["id"] for k in np.flatnonzero(open_)]}


def suggestions(s: Session, cfg: DispatchFile, tier: int, count: int = 1,
                cameras: list[dict[str, Any]] | None = None, grid: int = GRID,
                nodes: set[str] | None = None) -> dict[str, Any]:
    """Where `count` new posts of `tier` would bring the most uncovered places within the tier deadline."""
    deadline = _deadlines(cfg).get(tier, DEFAULT_DEADLINES.get(tier, 300.0))
    posts = _posts(s, nodes)
    result = []
    for p in places(s, cfg, cameras, nodes):
        best = _best(posts, tier, p, cfg)
        result.append({**p, "tiers": {str(tier): {"in_time": bool(best and best[1] <= deadline)}}})
    return _suggest(result, posts, cfg, tier, deadline, count, grid)
