"""Turn what a rule emitted (`RuleEvent`) into the Alert v1 that goes on the bus."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np

from alerts.model import Alert, AlertObject, Location, RuleRef, Source, make_alert_id
from rules.events import RuleEvent


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc)


def _plain(value: Any) -> Any:
    """Rules compute evidence with numpy; JSON needs Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def alert_from_event(
    event: RuleEvent,
    *,
    site: str,
    source_kind: str = "camera",
    clock_origin: float = 0.0,
    location: Location | None = None,
    snapshot: str | None = None,
    media_time: float | None = None,
    emitted_at: datetime | None = None,
) -> Alert:
    """Build the alert for one rule event.

    `event.t` and `event.started_at` are seconds on the source's clock; `clock_origin` is the Unix
    time at which that clock reads 0 (0 for live streams stamped in epoch seconds, the playback
    start for a file). The id uses the absolute start time, so a retry of the same event gives the
    same id, and a file replayed with the same origin too.
    """
    started = clock_origin + event.started_at
    observed = clock_origin + event.t
    loc = location.model_copy() if location is not None else Location()
    if event.zone is not None:
        loc.zone = event.zone
    return Alert(
        alert_id=make_alert_id(site, event.camera_id, event.rule_id, event.track_id, started),
        site=site,
        source=Source(kind=source_kind, id=event.camera_id),
        rule=RuleRef(id=event.rule_id, kind=event.rule_kind, severity=event.severity, version=event.rule_version),
        started_at=_utc(started),
        observed_at=_utc(observed),
        emitted_at=emitted_at if emitted_at is not None else datetime.now(timezone.utc),
        objects=[
            AlertObject(
                track_id=o.track_id,
                label=o.label,
                confidence=float(o.confidence),
                bbox=tuple(float(v) for v in o.bbox),
                point=tuple(float(v) for v in o.point),
            )
            for o in event.objects
        ],
        location=loc,
        snapshot=snapshot,
        evidence=_plain(dict(event.evidence)),
        media_time=media_time,
    )


def follow_up(
    alert: Alert,
    lifecycle: str,
    *,
    observed_at: datetime,
    emitted_at: datetime | None = None,
    **changes: Any,
) -> Alert:
    """The next lifecycle message of `alert` ("update" or "end"): same alert_id, next sequence.

    `changes` replace fields (e.g. `evidence` with the longer dwell, `objects`, `snapshot`).
    An end also gets `ended_at` (the observation time unless given).
    """
    if lifecycle not in ("update", "end"):
        raise ValueError(f"a follow-up is an update or an end, not {lifecycle!r}")
    if alert.lifecycle == "end":
        raise ValueError(f"alert {alert.alert_id} has ended; it gets no further messages")
    if lifecycle == "end":
        changes.setdefault("ended_at", observed_at)
    return alert.model_copy(update={
        **changes,
        "lifecycle": lifecycle,
        "sequence": alert.sequence + 1,
        "observed_at": observed_at,
        "emitted_at": emitted_at if emitted_at is not None else datetime.now(timezone.utc),
    })
