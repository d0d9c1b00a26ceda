"""Response-time report: per tier, how fast incidents were acknowledged and reached.

Times are measured from the incident's `opened_at` (when the first alert reached the dispatcher)
to the first acknowledge / first on-scene among that tier's orders for the incident, so a unit
replacing an expired one is counted against the original clock, as the 1-3-5 promise is.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.store.models import IncidentRow, OrderRow

THRESHOLDS = (60, 180, 300)
TIER_DEADLINE = {1: 60, 2: 180, 3: 300}
# Histogram bin edges in seconds: bin i is [EDGES[i], EDGES[i+1]), the last one open-ended. Fixed
# (not data-driven) so periods, tiers and org nodes compare bar for bar, and the 1-3-5 deadlines
# (60/180/300 s) fall on bin edges.
BIN_EDGES = (0, 30, 60, 120, 180, 300, 600)


def _quantile(xs: list[float], q: float) -> float | None:
    """Nearest-rank quantile; None for no data."""
    if not xs:
        return None
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)]


def _histogram(xs: list[float], slots: int) -> dict[str, Any]:
    """Counts per fixed bin, plus the incidents of the tier never reached (no ack / no on-scene)."""
    counts = [0] * len(BIN_EDGES)
    for x in xs:
        # A clock step could make a time slightly negative; it belongs to the first bin.
        i = max(0, sum(1 for e in BIN_EDGES if x >= e) - 1)
        counts[i] += 1
    bins = [{"from_s": lo, "to_s": hi, "count": c}
            for lo, hi, c in zip(BIN_EDGES, (*BIN_EDGES[1:], None), counts)]
    return {"bins": bins, "not_reached": slots - len(xs)}


def response_times(s: Session, since: float | None = None, until: float | None = None,
                   nodes: set[str] | None = None) -> dict[str, Any]:
    """`nodes`: only incidents of these org nodes (a county's report rolls up its stations)."""
    q = select(OrderRow, IncidentRow.opened_at).join(IncidentRow, IncidentRow.id == OrderRow.incident_id)
    if nodes is not None:
        q = q.where(IncidentRow.node.in_(sorted(nodes)))
    if since is not None:
        q = q.where(IncidentRow.opened_at >= since)
    if until is not None:
        q = q.where(IncidentRow.opened_at < until)
    first: dict[tuple[int, int], dict[str, float | None]] = {}
    for o, opened in s.execute(q).all():
        slot = first.setdefault((o.tier, o.incident_id), {"ack": None, "scene": None})
        for key, at in (("ack", o.acknowledged_at), ("scene", o.on_scene_at)):
            if at is not None:
                d = at - opened
                slot[key] = d if slot[key] is None else min(slot[key], d)  # type: ignore[type-var]
    tiers: dict[str, Any] = {}
    for tier in (1, 2, 3):
        slots = [v for (t, _), v in first.items() if t == tier]
        acks = [v["ack"] for v in slots if v["ack"] is not None]
        scenes = [v["scene"] for v in slots if v["scene"] is not None]
        n = len(slots)
        tiers[str(tier)] = {
            "count": n,
            "ack_median_s": _quantile(acks, 0.5), "ack_p90_s": _quantile(acks, 0.9),
            "on_scene_median_s": _quantile(scenes, 0.5), "on_scene_p90_s": _quantile(scenes, 0.9),
            # Share of this tier's incidents reached within each threshold (unreached count as misses).
            "within": {str(t): (sum(1 for x in scenes if x <= t) / n if n else None) for t in THRESHOLDS},
            "deadline_s": TIER_DEADLINE[tier],
            # Distributions of the same times: bins [from_s, to_s) seconds, to_s null = open-ended.
            "ack_histogram": _histogram(acks, n),
            "on_scene_histogram": _histogram(scenes, n),
        }
    return {"since": since, "until": until, "bin_edges_s": list(BIN_EDGES), "tiers": tiers}
