"""Report queries the console needs beyond `api.reports` / `api.report_breakdown`: how many alerts
each rule and each camera raised (which fences are noisy, which cameras see the most), split by
severity. Counted by `received_at`, the same clock the other reports use."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.store.models import AlertRow, IncidentRow

SEVERITIES = ("low", "medium", "high", "critical")


def alert_counts(s: Session, since: float | None = None, until: float | None = None,
                 nodes: set[str] | None = None, drills: bool = False) -> dict[str, Any]:
    """{by_rule: [{key, count, by_severity}], by_camera: [...], total}; largest first."""
    out: dict[str, Any] = {"total": 0}
    for name, col in (("by_rule", AlertRow.rule_id), ("by_camera", AlertRow.source_id)):
        q = (select(col, AlertRow.severity, func.count()).select_from(AlertRow)
             .outerjoin(IncidentRow, IncidentRow.id == AlertRow.incident_id).group_by(col, AlertRow.severity))
        if since is not None:
            q = q.where(AlertRow.received_at >= since)
        if until is not None:
            q = q.where(AlertRow.received_at < until)
        if nodes is not None:
            q = q.where(IncidentRow.node.in_(sorted(nodes)))
        if not drills:  # drill alerts would swamp the real counts of a quiet site
            q = q.where((IncidentRow.drill.is_(False)) | (IncidentRow.id.is_(None)))
        per: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SEVERITIES, 0))
        for key, sev, n in s.execute(q).all():
            per[key][sev] = per[key].get(sev, 0) + n
        rows = [{"key": k, "count": sum(v.values()), "by_severity": v} for k, v in per.items()]
        out[name] = sorted(rows, key=lambda r: (-r["count"], r["key"]))
    out["total"] = sum(r["count"] for r in out["by_rule"])
    return out
