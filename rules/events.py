"""What a rule emits when it fires: plain data, no I/O. `alerts` turns it into an Alert v1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True)
class EventObject:
    """One object involved in an event, in pixel coordinates of the frame."""

    track_id: int
    class_id: int
    label: str
    confidence: float
    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2 pixels
    point: tuple[float, float]  # the anchor point the rule tested, pixels


@dataclass(frozen=True)
class RuleEvent:
    """A rule fired at frame time `t` (seconds, from the frame's timestamp).

    `started_at` is when the condition began (e.g. entry time for a dwell), so a replay and a
    live run of the same scene produce the same alert id. `track_id` is the object the alert is
    about (-1 for rules about a group, such as crowding).
    """

    rule_id: str
    rule_kind: str
    rule_version: int
    severity: Severity
    camera_id: str
    t: float
    started_at: float
    track_id: int
    objects: tuple[EventObject, ...]
    zone: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
