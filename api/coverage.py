"""Coverage: for each place that needs cover, which tiers can reach it in time from their posts.

Places are the locations incidents have happened at (the api does not know cameras; alerts
carry their location) plus `points_of_interest` from dispatch.yaml. ETAs use the posts, not live
positions: coverage is about the standing plan, not this minute. Off-duty units do not count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import DispatchFile
from api.dispatch.eta import haversine_m
from api.store.models import IncidentRow, ResponderRow

DEFAULT_DEADLINES = {1: 60.0, 2: 180.0, 3: 300.0}


def _deadlines(cfg: DispatchFile) -> dict[int, float]:
    """The tightest arrival deadline any policy sets per tier (that is the promise to keep)."""
    out = dict(DEFAULT_DEADLINES)
    seen: dict[int, float] = {}
    for p in cfg.policies.values():
        for tier, d in p.arrival_deadline_s.items():
            seen[tier] = min(d, seen.get(tier, d))
    out.update(seen)
    return out


def places(s: Session, cfg: DispatchFile) -> list[dict[str, Any]]:
    out = [{"id": p.id, "kind": "point_of_interest", "lat": p.lat, "lon": p.lon} for p in cfg.points_of_interest]
    q = (select(IncidentRow.source_id, IncidentRow.zone, func.avg(IncidentRow.lat), func.avg(IncidentRow.lon),
                func.count()).where(IncidentRow.lat.is_not(None), IncidentRow.drill.is_(False))
         .group_by(IncidentRow.source_id, IncidentRow.zone).order_by(IncidentRow.source_id, IncidentRow.zone))
    for source, zone, lat, lon, n in s.execute(q).all():
        out.append({"id": f"{source}/{zone}" if zone else source, "kind": "alert_location", "lat": float(lat),
                    "lon": float(lon), "incidents": n})
    return out


def coverage(s: Session, cfg: DispatchFile) -> dict[str, Any]:
    deadlines = _deadlines(cfg)
    units = [r for r in s.scalars(select(ResponderRow)) if r.status != "off_duty" and r.post_lat is not None]
    result = []
    for p in places(s, cfg):
        tiers: dict[str, Any] = {}
        for tier, deadline in sorted(deadlines.items()):
            best = None
            for r in units:
                if r.tier != tier:
                    continue
                eta = haversine_m(r.post_lat, r.post_lon, p["lat"], p["lon"]) * cfg.detour_factor / r.speed_mps
                if best is None or eta < best[1]:
                    best = (r.id, eta)
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
    return {"places": result, "summary": summary,
            "gaps": [{"place": g[0], "tier": int(g[1]), "late_by_s": g[2]} for g in gaps]}
