"""Response-time breakdowns: per tier, unit, zone, org node, or period (day/week/month), with the
share of incidents reached within 1, 3 and 5 minutes, as rows for JSON, CSV and charts.

Per org node the rows roll up the hierarchy: a county's row counts its own incidents and those of
every station below it, and so on up to the city; a user sees only the rows of their part.

The clock starts at the incident's `opened_at` (first alert received), as in `api.reports`.
One slot per (incident, tier): its first acknowledge and first on-scene. Per unit, each order is
its own slot (a unit is judged by its own arrivals). Drills are left out unless asked for.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.org import Org
from api.reports import THRESHOLDS, _quantile
from api.store.models import IncidentRow, OrderRow

By = Literal["tier", "unit", "zone", "node", "day", "week", "month"]
NO_NODE = "(no node)"
TIER_TARGET = {1: 60, 2: 180, 3: 300}
COLUMNS = ["key", "tier", "count", "acknowledged", "on_scene", "ack_median_s", "on_scene_median_s",
           "on_scene_p90_s", "within_60", "within_180", "within_300", "within_tier_target"]


def period_key(t: float, by: str, tz: ZoneInfo) -> str:
    d = datetime.fromtimestamp(t, tz)
    if by == "day":
        return d.strftime("%Y-%m-%d")
    if by == "week":
        monday = d.date() - timedelta(days=d.weekday())
        return f"{monday.isoformat()} (W{d.isocalendar().week:02d})"
    return d.strftime("%Y-%m")


def _node_keys(node: str | None, org: Org, nodes: set[str] | None) -> list[str]:
    """The node and each ancestor (roll-up), only those the user may see."""
    if node is None:
        return [NO_NODE]
    out, cur = [], node
    while cur is not None and len(out) <= len(org.parent):
        out.append(cur)
        cur = org.parent.get(cur)
    return [n for n in out if nodes is None or n in nodes]


def _slots(s: Session, by: str, since: float | None, until: float | None, drills: bool, tz: ZoneInfo,
           nodes: set[str] | None = None,
           org: Org | None = None) -> dict[tuple[str, int], list[dict[str, float | None]]]:
    org = org or Org()
    q = select(OrderRow, IncidentRow).join(IncidentRow, IncidentRow.id == OrderRow.incident_id)
    if nodes is not None:
        q = q.where(IncidentRow.node.in_(sorted(nodes)))
    if since is not None:
        q = q.where(IncidentRow.opened_at >= since)
    if until is not None:
        q = q.where(IncidentRow.opened_at < until)
    if not drills:
        q = q.where(IncidentRow.drill.is_(False))
    per_slot: dict[tuple[str, int, Any], dict[str, float | None]] = {}
    for o, inc in s.execute(q).all():
        if by == "unit":
            keys, slot_id = [o.responder_id], o.id
        elif by == "node":
            keys, slot_id = _node_keys(inc.node, org, nodes), inc.id
        else:
            keys = [{"tier": "all", "zone": inc.zone or f"{inc.source_id} (no zone)"}.get(by)
                    or period_key(inc.opened_at, by, tz)]
            slot_id = inc.id
        for key in keys:
            slot = per_slot.setdefault((key, o.tier, slot_id), {"ack": None, "scene": None})
            for name, at in (("ack", o.acknowledged_at), ("scene", o.on_scene_at)):
                if at is not None:
                    d = at - inc.opened_at
                    slot[name] = d if slot[name] is None else min(slot[name], d)  # type: ignore[type-var]
    out: dict[tuple[str, int], list[dict[str, float | None]]] = defaultdict(list)
    for (key, tier, _), v in per_slot.items():
        out[(key, tier)].append(v)
    return out


def breakdown(s: Session, by: By = "tier", since: float | None = None, until: float | None = None,
              drills: bool = False, tz: str = "UTC", nodes: set[str] | None = None,
              org: Org | None = None) -> list[dict[str, Any]]:
    """`nodes`: only incidents of these org nodes (None: all); `org` names the parents for by=node."""
    zone = ZoneInfo(tz)
    rows = []
    for (key, tier), slots in sorted(_slots(s, by, since, until, drills, zone, nodes, org).items()):
        acks = [v["ack"] for v in slots if v["ack"] is not None]
        scenes = [v["scene"] for v in slots if v["scene"] is not None]
        n = len(slots)
        row: dict[str, Any] = {
            "key": key, "tier": tier, "count": n, "acknowledged": len(acks), "on_scene": len(scenes),
            "ack_median_s": _quantile(acks, 0.5), "on_scene_median_s": _quantile(scenes, 0.5),
            "on_scene_p90_s": _quantile(scenes, 0.9),
        }
        # Never reached counts as a miss: the share is over every slot, not over arrivals.
        for t in THRESHOLDS:
            row[f"within_{t}"] = sum(1 for x in scenes if x <= t) / n
        row["within_tier_target"] = sum(1 for x in scenes if x <= TIER_TARGET.get(tier, 300)) / n
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r[k] is None else round(r[k], 3) if isinstance(r[k], float) else r[k]) for k in COLUMNS})
    return buf.getvalue()
