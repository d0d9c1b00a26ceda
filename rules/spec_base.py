"""Fields every rule kind shares: `RuleBase`, and `ZoneSpecBase` for rules about a polygon.

Split from `rules.config` (which re-exports everything here) so kind specs can live in more
than one module without import cycles.
"""

from __future__ import annotations

from typing import Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator

from detectors.labels import COCO_CLASSES
from rules.schedule import Schedule

Severity = Literal["low", "medium", "high", "critical"]
AnchorName = Literal["bottom_center", "center", "top_center"]
Point = tuple[float, float]

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def _check_unit_square(points: list[Point]) -> None:
    bad = [i for i, (x, y) in enumerate(points) if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0)]
    if bad:
        raise ValueError(
            f"point(s) {bad} outside [0, 1]: coordinates are fractions of the frame width/height"
        )


def check_polygon(v: list[Point]) -> list[Point]:
    """A fence polygon: >= 3 points in the unit square, simple (concave allowed), with area."""
    if len(v) < 3:
        raise ValueError(f"polygon needs at least 3 points, got {len(v)}")
    _check_unit_square(v)
    poly = shapely.Polygon(v)
    if not shapely.is_valid(poly):
        raise ValueError(f"polygon is not simple: {shapely.is_valid_reason(poly)}")
    if poly.area <= 0:
        raise ValueError("polygon has no area (points are collinear or repeated)")
    return v


class HandoverSpec(BaseModel):
    """Identity hand-over: a new track id that appears where a track was just lost inherits the
    lost track's state in this rule (cooldown, fired, tripwire side, time inside), so a tracker
    id switch neither re-fires the rule nor restarts its timers. See docs/rules.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Inherit state across tracker id switches")
    max_gap_s: float = Field(
        default=1.5,
        ge=0,
        description="The new id must appear at most this long after the lost track was last seen "
        "(and within the rule's forget_after_s, after which the lost state is gone anyway)",
    )
    max_distance: float = Field(
        default=0.75,
        ge=0,
        description="The new id's box centre must lie within this many box heights of the lost "
        "track's box centre "
        "(last position or extrapolated by its last velocity); scale-aware, so the same value "
        "works near and far from the camera",
    )


class RuleBase(BaseModel):
    """Fields every rule kind shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        pattern=SLUG,
        description="Stable slug (lowercase letters, digits, '-' and '_'); part of alert ids, "
        "so renaming a rule starts a new alert history.",
    )
    name: str = Field(default="", description="Human-readable name shown to operators")
    enabled: bool = Field(
        default=True, description="Disabled rules are kept in the file but not run"
    )
    version: int = Field(
        default=1, ge=1, description="Bump when the fence changes meaning; carried on every event"
    )
    severity: Severity = Field(default="high", description="Selects the dispatch policy")
    classes: list[str] = Field(
        default_factory=lambda: ["person"],
        min_length=1,
        description="COCO class names the rule applies to",
    )
    min_confidence: float = Field(
        default=0.3, ge=0, le=1, description="Ignore detections scored below this"
    )
    cooldown_s: float = Field(
        default=30.0,
        ge=0,
        description="The same track fires this rule again only after this many seconds; "
        "a new track fires at once",
    )
    anchor: AnchorName = Field(
        default="bottom_center",
        description="Point of the box tested against the fence; bottom_center is where feet "
        "touch the ground, which is what a fence drawn on the ground means",
    )
    forget_after_s: float = Field(
        default=10.0,
        gt=0,
        description="Per-track state is dropped when a track has been unseen this long",
    )
    handover: HandoverSpec = Field(
        default_factory=HandoverSpec,
        description="Identity hand-over across tracker id switches (kinds with per-track "
        "state in the engine's track table; loitering uses its own rejoin_radius)",
    )
    schedule: Schedule | None = Field(
        default=None,
        description="When the rule is armed (days, hours, holidays, time zone); always if "
        "absent. Out of schedule it emits nothing and forgets its per-track state",
    )

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c not in COCO_CLASSES]
        if unknown:
            raise ValueError(
                f"unknown class names {unknown}; use COCO names such as person, car, truck"
            )
        return v

    @property
    def display_name(self) -> str:
        return self.name or self.id


class ZoneSpecBase(RuleBase):
    """Rules about a polygon zone share its field and checks."""

    polygon: list[Point] = Field(
        description="Zone outline, normalised [x, y] points (concave allowed, not self-crossing)"
    )

    @field_validator("polygon")
    @classmethod
    def _valid_polygon(cls, v: list[Point]) -> list[Point]:
        return check_polygon(v)
