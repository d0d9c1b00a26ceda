"""One neutral event record for the workbench: what compare and scoring match on.

Replays write Alert v1 lines; the comparison re-runs rules and gets `RuleEvent`s. Both become a
`FenceEvent` keyed on media time, so every tool here measures time the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from alerts.model import Alert
from rules.events import RuleEvent

# Rule kind -> the kind of event a labels file names. Kinds not listed (new rule kinds) use
# their own name, so a labels file can already refer to them.
EVENT_KIND = {"tripwire": "crossing", "zone_intrusion": "entry", "zone_entrance": "entry", "zone_exit": "exit",
              "loitering": "loitering", "crowding": "crowding"}


def event_kind(rule_kind: str) -> str:
    return EVENT_KIND.get(rule_kind, rule_kind)


@dataclass(frozen=True)
class FenceEvent:
    rule_id: str
    rule_kind: str
    t: float  # media seconds when the rule fired
    track_id: int
    direction: str | None = None  # tripwire crossings only
    snapshot: str | None = None

    @property
    def kind(self) -> str:
        return event_kind(self.rule_kind)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kind"] = self.kind
        d["t"] = round(self.t, 3)
        return {k: v for k, v in d.items() if v is not None}

    @classmethod
    def from_alert(cls, alert: Alert) -> "FenceEvent":
        track = alert.objects[0].track_id if alert.objects else -1
        return cls(alert.rule.id, alert.rule.kind, float(alert.media_time or 0.0), int(track),
                   alert.evidence.get("direction"), alert.snapshot)

    @classmethod
    def from_rule_event(cls, event: RuleEvent, media_time: float | None = None) -> "FenceEvent":
        t = event.t if media_time is None else media_time
        return cls(event.rule_id, event.rule_kind, float(t), int(event.track_id), event.evidence.get("direction"))


def read_events(path: Path) -> list[FenceEvent]:
    """Events of a replay's `events.jsonl` (one Alert v1 per line)."""
    out = []
    with Path(path).open() as f:
        for line in f:
            if line.strip():
                out.append(FenceEvent.from_alert(Alert.model_validate(json.loads(line))))
    return out
