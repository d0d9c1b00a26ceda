"""Specs of the rule kinds about left or taken objects: abandoned_object and object_removed.

Both watch "spots": places where an object of the configured classes stood still (see
rules/static_objects.py). They share `StaticObjectSpecBase`; `rules.config` re-exports them and
holds the `RuleSpec` union.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from detectors.labels import COCO_CLASSES
from rules.spec_base import Point, RuleBase, check_polygon

BAGS = ["backpack", "handbag", "suitcase"]


class StaticObjectSpecBase(RuleBase):
    """Fields of the rules about an object that stays put (a spot) and the people around it."""

    classes: list[str] = Field(
        default_factory=lambda: list(BAGS),
        min_length=1,
        description="COCO class names of the objects watched (bags by default)",
    )
    polygon: list[Point] | None = Field(
        default=None,
        description="Optional zone (normalised points): only objects whose anchor is inside count",
    )
    min_static_s: float = Field(
        default=30.0, gt=0, description="Seconds an object must stay put before it counts as left"
    )
    static_radius: float = Field(
        default=0.02,
        gt=0,
        description="Fraction of the frame width the anchor may wander from the mean of its "
        "spot (box jitter) and still count as not moving; an object of the same class seen "
        "this close to a spot whose track was lost continues it (trackers re-number objects "
        "after an occlusion)",
    )
    owner_classes: list[str] = Field(
        default_factory=lambda: ["person"],
        min_length=1,
        description="COCO class names of who can attend (or take) an object",
    )
    owner_distance: float = Field(
        default=0.08,
        gt=0,
        description="Fraction of the frame width: someone whose box comes this close to the "
        "object's spot (or covers it: a bag held by someone standing still) counts as being "
        "with it",
    )
    forget_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A spot nobody has seen its object in for this long is forgotten (an object "
        "hidden behind people for less keeps its spot and its static time)",
    )

    @field_validator("polygon")
    @classmethod
    def _valid_zone(cls, v: list[Point] | None) -> list[Point] | None:
        return None if v is None else check_polygon(v)

    @field_validator("owner_classes")
    @classmethod
    def _known_owner_classes(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c not in COCO_CLASSES]
        if unknown:
            raise ValueError(f"unknown class names {unknown}; use COCO names such as person")
        return v

    @model_validator(mode="after")
    def _owners_are_not_objects(self) -> "StaticObjectSpecBase":
        both = sorted(set(self.classes) & set(self.owner_classes))
        if both:
            raise ValueError(f"classes and owner_classes share {both}: an object cannot attend itself")
        return self


class AbandonedObjectSpec(StaticObjectSpecBase):
    """Fires once per object left: static for `min_static_s` with nobody near for `unattended_s`."""

    kind: Literal["abandoned_object"] = Field(description="Rule kind")
    unattended_s: float = Field(
        default=10.0,
        ge=0,
        description="Seconds with no one of owner_classes within owner_distance of the object "
        "(counted from when the last one left, or from when the object stopped)",
    )


class ObjectRemovedSpec(StaticObjectSpecBase):
    """Fires once when an object that stood still for `min_static_s` is gone for `gone_s`."""

    kind: Literal["object_removed"] = Field(description="Rule kind")
    gone_s: float = Field(
        default=5.0,
        gt=0,
        description="Seconds the spot must stay empty (no object of the classes within "
        "static_radius) before the object counts as removed; shorter absences are occlusions",
    )
    require_person_s: float | None = Field(
        default=None,
        ge=0,
        description="If set, fire only when someone of owner_classes was within owner_distance "
        "at most this many seconds before the object vanished (someone took it); unset: any "
        "disappearance fires",
    )

    @model_validator(mode="after")
    def _gone_shorter_than_memory(self) -> "ObjectRemovedSpec":
        if self.gone_s >= self.forget_after_s:
            raise ValueError(
                f"gone_s ({self.gone_s}) must be below forget_after_s ({self.forget_after_s}), "
                "or the spot is forgotten before the removal counts"
            )
        return self
