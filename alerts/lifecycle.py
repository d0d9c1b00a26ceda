"""Settings of the alert lifecycle (start / update / end) that live workers apply (site.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LifecycleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    update_every_s: float = Field(10.0, gt=0, description="refresh an open alert's objects this often")
    end_after_s: float = Field(5.0, ge=0, description="end an alert once none of its tracks was seen this long")
    max_open_s: float = Field(3600.0, gt=0, description="end an alert that has been open this long anyway")
    # Conditions that last (someone inside, waiting, crowding, a parked car, a left bag). A
    # crossing, an entrance or exit, a sprint or a removal is over when it fires: start only.
    kinds: list[str] = Field(
        default_factory=lambda: ["zone_intrusion", "loitering", "crowding", "stationary", "abandoned_object", "geofence"],
        description="rule kinds whose alerts get updates and an end; others are single messages")
