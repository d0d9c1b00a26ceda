"""Labels files: the events a recording should produce, so tuning a fence has a number.

    events:
      - rule: plaza-midline
        kind: crossing
        direction: a_to_b
        window: [12.0, 14.0]   # media seconds
        at: 13.1               # optional: when it should fire (default: middle of the window)
        track: 7               # optional hint

Read with `load_labels`; problems raise rules.configfile.ConfigError naming file, line and key,
like every other config file. The format is documented in docs/workbench.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.config import SLUG
from rules.configfile import load_model
from rules.engine import RULE_KINDS

from ingest.workbench.fence_events import EVENT_KIND, event_kind


def known_kinds() -> list[str]:
    """Event kinds a label may name: those of EVENT_KIND, and every other rule kind by its name."""
    return sorted({event_kind(k) for k in RULE_KINDS} | set(EVENT_KIND.values()))

Direction = Literal["a_to_b", "b_to_a"]


class ExpectedEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str = Field(pattern=SLUG, description="Id of the rule that should fire (as in rules.yaml)")
    kind: str = Field(description="crossing (tripwire), entry (zone_intrusion, zone_entrance), exit (zone_exit), "
                      "loitering, crowding, or the name of any other rule kind (e.g. fast_moving)")
    window: tuple[float, float] = Field(
        description="[start, end] in seconds of media time: an event of this rule firing inside it "
        "can match this label")
    direction: Direction | None = Field(
        default=None, description="crossings only: the direction that must be reported; omit to accept either")
    at: float | None = Field(
        default=None, description="When the event should fire (media seconds), the reference for timing "
        "error; default the middle of the window")
    track: int | None = Field(
        default=None, description="Hint: a track id expected to fire; only breaks ties between "
        "equally close candidate events")
    note: str = Field(default="", description="Free text for people, ignored by scoring")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in known_kinds():
            raise ValueError(f"unknown event kind {v!r}; use one of: {', '.join(known_kinds())}")
        return v

    @field_validator("window")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < v[0]:
            raise ValueError(f"window must be [start, end] with 0 <= start <= end, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "ExpectedEvent":
        if self.direction is not None and self.kind != "crossing":
            raise ValueError(f"direction is only meaningful for kind 'crossing', not {self.kind!r}")
        if self.at is not None and not self.window[0] <= self.at <= self.window[1]:
            raise ValueError(f"at={self.at} lies outside window {list(self.window)}")
        return self

    @property
    def reference(self) -> float:
        return self.at if self.at is not None else (self.window[0] + self.window[1]) / 2


class LabelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video: str = Field(default="", description="Recording these labels describe (informational)")
    camera: str = Field(default="", description="Camera id whose rules the labels refer to (informational)")
    source: str = Field(default="", description="How the labels were made, e.g. 'hand' or 'derived from MOT15 GT'")
    events: list[ExpectedEvent] = Field(default_factory=list, description="Expected events, any order")


def load_labels(path: Path | str) -> LabelsFile:
    return load_model(LabelsFile, Path(path))
