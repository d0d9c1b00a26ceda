"""Rule specs: the typed form of `configs/rules.yaml`.

Coordinates are normalised to the frame ([0, 1], x right, y down) so a fence survives a change of
stream resolution; rules scale them to pixels with `rules.geometry.to_pixels`. Every check here is
a small named validator so `lookout config check` can say exactly which key is wrong, and the
field descriptions feed the JSON Schema that the console's fence editor renders.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

# Re-exported: other packages import the shared pieces from here.
from rules.spec_base import (  # noqa: F401
    SLUG,
    AnchorName,
    Point,
    RuleBase,
    Severity,
    ZoneSpecBase,
    _check_unit_square,
)
from rules.spec_motion import (
    FastMovingSpec,
    StationarySpec,
    ZoneEntranceSpec,
    ZoneExitSpec,
)
from rules.spec_objects import AbandonedObjectSpec, ObjectRemovedSpec
from rules.spec_geo import GeofenceSpec

class ZoneIntrusionSpec(ZoneSpecBase):
    """Fires once per track when its anchor has stayed inside `polygon` for `min_inside_s`."""

    kind: Literal["zone_intrusion"] = Field(description="Rule kind")
    min_inside_s: float = Field(
        default=1.0, ge=0, description="Seconds inside before the rule fires (hysteresis)"
    )
    exit_grace_s: float = Field(
        default=0.5,
        ge=0,
        description="Being seen outside the zone for at most this long does not restart the "
        "dwell timer, so a box flickering on the edge still fires",
    )


class LoiteringSpec(ZoneSpecBase):
    """Fires once per stay when a track has stayed in `polygon` for `min_dwell_s`.

    A stay survives excursions outside of at most `max_gap_s` and occlusions, also those after
    which the tracker re-numbers the person (see `rejoin_radius`).
    """

    kind: Literal["loitering"] = Field(description="Rule kind")
    min_dwell_s: float = Field(
        default=60.0, gt=0, description="Seconds in the zone that count as loitering"
    )
    max_gap_s: float = Field(
        default=3.0,
        ge=0,
        description="Being unseen (occlusion, missed detections) or outside for at most this "
        "long continues the stay",
    )
    rejoin_radius: float = Field(
        default=0.05,
        ge=0,
        description="A new track id appearing in the zone this close (fraction of the frame "
        "width) to where a track vanished at most max_gap_s ago continues that track's stay, "
        "since trackers often re-number a person after an occlusion; 0 disables",
    )

    @model_validator(mode="after")
    def _gap_shorter_than_memory(self) -> "LoiteringSpec":
        if self.max_gap_s >= self.forget_after_s:
            raise ValueError(
                f"max_gap_s ({self.max_gap_s}) must be below forget_after_s "
                f"({self.forget_after_s}), or the track's state is gone before the gap ends"
            )
        return self


class CrowdingSpec(ZoneSpecBase):
    """Fires when at least `min_count` objects are in `polygon` for `min_duration_s`."""

    kind: Literal["crowding"] = Field(description="Rule kind")
    min_count: int = Field(default=5, ge=1, description="Objects in the zone at the same time")
    min_duration_s: float = Field(
        default=5.0, ge=0, description="How long the count must hold before the event"
    )
    drop_grace_s: float = Field(
        default=1.0,
        ge=0,
        description="The count dipping below min_count for at most this long (missed "
        "detections) does not restart the timer",
    )


class TripwireSpec(RuleBase):
    """Fires when a track's anchor crosses `line` (a polyline) within a segment's extent.

    Side A is on the left-hand side of someone walking along the line from its first point to its
    last, looking at the image as displayed (x right, y down). For a line drawn left to right,
    A is above the line and B below; drawn top to bottom, A is on the right (east).
    """

    kind: Literal["tripwire"] = Field(description="Rule kind")
    line: list[Point] = Field(
        description="Polyline of normalised [x, y] points, first to last; at least 2 distinct"
    )
    direction: Literal["a_to_b", "b_to_a", "both"] = Field(
        default="both",
        description="Which crossings fire: a_to_b is from the left-hand side (walking the line "
        "first to last point) to the right-hand side",
    )
    min_offset_px: float = Field(
        default=3.0,
        ge=0,
        description="Hysteresis band: the anchor counts as on a side only this many pixels "
        "beyond the line, so a box jittering on the line never counts",
    )

    @field_validator("line")
    @classmethod
    def _valid_line(cls, v: list[Point]) -> list[Point]:
        if len(v) < 2:
            raise ValueError(f"line needs at least 2 points, got {len(v)}")
        _check_unit_square(v)
        repeated = [i for i in range(1, len(v)) if tuple(v[i]) == tuple(v[i - 1])]
        if repeated:
            raise ValueError(
                f"line point(s) {repeated} repeat the previous point (zero-length segment)"
            )
        return v


RULE_SPECS = (
    ZoneIntrusionSpec,
    TripwireSpec,
    LoiteringSpec,
    CrowdingSpec,
    FastMovingSpec,
    StationarySpec,
    ZoneEntranceSpec,
    ZoneExitSpec,
    AbandonedObjectSpec,
    ObjectRemovedSpec,
    GeofenceSpec,
)
RuleSpec = Annotated[
    ZoneIntrusionSpec
    | TripwireSpec
    | LoiteringSpec
    | CrowdingSpec
    | FastMovingSpec
    | StationarySpec
    | ZoneEntranceSpec
    | ZoneExitSpec
    | AbandonedObjectSpec
    | ObjectRemovedSpec
    | GeofenceSpec,
    Field(discriminator="kind"),
]
RULE_KIND_NAMES: tuple[str, ...] = tuple(
    get_args(spec.model_fields["kind"].annotation)[0] for spec in RULE_SPECS
)


def _untag_union_errors(exc: ValidationError) -> ValidationError:
    """Drop the union tag pydantic inserts after a list index (`[0].tripwire.line`).

    Error paths then name keys as the YAML spells them (`rules[0].line`), so config errors and
    API 422 responses point at a real key and `configfile` finds its line.
    """
    details = []
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and isinstance(loc[0], int) and loc[1] in RULE_KIND_NAMES:
            loc = (loc[0], *loc[2:])
        detail = InitErrorDetails(type=err["type"], loc=loc, input=err["input"])
        if "ctx" in err:
            detail["ctx"] = err["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(exc.title, details)


class CameraRules(BaseModel):
    """The rules of one camera."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleSpec] = Field(default_factory=list, description="Rules run on this camera")

    @field_validator("rules", mode="wrap")
    @classmethod
    def _readable_error_paths(cls, v, handler):
        try:
            return handler(v)
        except ValidationError as exc:
            raise _untag_union_errors(exc) from None

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, v: list) -> list:
        seen: dict[str, int] = {}
        for i, rule in enumerate(v):
            if rule.id in seen:
                raise ValueError(
                    f"duplicate rule id {rule.id!r} (rules[{seen[rule.id]}] and rules[{i}])"
                )
            seen[rule.id] = i
        return v


class RulesFile(BaseModel):
    """`configs/rules.yaml`: rules per camera id."""

    model_config = ConfigDict(extra="forbid")

    cameras: dict[str, CameraRules] = Field(
        default_factory=dict, description="Camera id (as in cameras.yaml) to its rules"
    )
