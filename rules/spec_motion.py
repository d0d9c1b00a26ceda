"""Specs of the rule kinds about how objects move: fast_moving, stationary, zone_entrance/exit.

They share `RuleBase` (class filter, confidence, schedule, severity, cooldown, version) with the
kinds in `rules.config`, which re-exports them and holds the `RuleSpec` union.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from rules.spec_base import Point, RuleBase, ZoneSpecBase, check_polygon

VEHICLES = ["car", "motorcycle", "bus", "truck"]


class FastMovingSpec(RuleBase):
    """Fires once per episode when a track's speed stays at or above `min_speed`.

    Speed is measured over a sliding window, in pixels/s of the analysed frame, or in ground
    metres per second when `homography` calibrates the camera.
    """

    kind: Literal["fast_moving"] = Field(description="Rule kind")
    min_speed: float = Field(
        gt=0, description="Speed that counts as fast: pixels/s, or m/s with a homography"
    )
    window_s: float = Field(
        default=1.0,
        gt=0,
        description="Speed is the anchor's displacement over the last window_s seconds divided "
        "by the time it took, so one jittery box does not look like a sprint",
    )
    min_duration_s: float = Field(
        default=0.5, ge=0, description="How long the speed must stay above min_speed (hysteresis)"
    )
    polygon: list[Point] | None = Field(
        default=None,
        description="Optional zone (normalised points): only motion with the anchor inside counts",
    )
    homography: list[list[float]] | None = Field(
        default=None,
        description="3x3 matrix from normalised image [x, y, 1] to ground metres [X, Y, W] "
        "(e.g. cv2.findHomography on the frame-fraction coordinates of surveyed points); with "
        "it min_speed is in m/s",
    )

    @field_validator("polygon")
    @classmethod
    def _valid_zone(cls, v: list[Point] | None) -> list[Point] | None:
        return None if v is None else check_polygon(v)

    @field_validator("homography")
    @classmethod
    def _valid_homography(cls, v: list[list[float]] | None) -> list[list[float]] | None:
        if v is None:
            return v
        m = np.asarray(v, dtype=np.float64)
        if m.shape != (3, 3):
            raise ValueError(f"homography must be 3x3, got {len(v)} rows")
        if not np.isfinite(m).all():
            raise ValueError("homography has non-finite entries")
        if math.isclose(float(np.linalg.det(m)), 0.0, abs_tol=1e-12):
            raise ValueError("homography is singular (determinant 0): it maps the image to a line")
        return v

    @property
    def unit(self) -> str:
        return "m/s" if self.homography is not None else "px/s"


class StationarySpec(ZoneSpecBase):
    """Fires once per stay when an object stops in `polygon` for `min_stationary_s`."""

    kind: Literal["stationary"] = Field(description="Rule kind")
    classes: list[str] = Field(
        default_factory=lambda: list(VEHICLES),
        min_length=1,
        description="COCO class names the rule applies to (vehicles by default: illegal parking)",
    )
    min_stationary_s: float = Field(
        default=60.0, gt=0, description="Seconds an object must stay put before the event"
    )
    tolerance_radius: float = Field(
        default=0.01,
        ge=0,
        description="Fraction of the frame width the anchor may wander from the mean of its "
        "stay (box jitter) and still count as not moving",
    )


class ZoneEntranceSpec(ZoneSpecBase):
    """Fires when a track seen outside `polygon` is then seen inside for `min_persist_s`."""

    kind: Literal["zone_entrance"] = Field(description="Rule kind")
    min_persist_s: float = Field(
        default=0.5,
        ge=0,
        description="The anchor must stay on the new side this long before the crossing counts, "
        "so a box flickering on the outline never counts twice or backwards",
    )


class ZoneExitSpec(ZoneSpecBase):
    """Fires when a track seen inside `polygon` is then seen outside for `min_persist_s`."""

    kind: Literal["zone_exit"] = Field(description="Rule kind")
    min_persist_s: float = Field(
        default=0.5,
        ge=0,
        description="The anchor must stay on the new side this long before the crossing counts, "
        "so a box flickering on the outline never counts twice or backwards",
    )

