"""The site a deployment watches: its id, name, time zone and reference position."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.evidence.config import EvidenceConfig
from alerts.lifecycle import LifecycleConfig


class GeoPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS84 degrees")
    lon: float = Field(ge=-180, le=180, description="Longitude, WGS84 degrees")


class Site(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Stable site id used in alert ids")
    name: str = Field(description="Human name shown in the console")
    timezone: str = Field(default="UTC", description="IANA time zone for schedules and reports")
    location: GeoPoint | None = Field(default=None, description="Reference position of the site")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v


class SiteFile(BaseModel):
    """`site.yaml`."""

    model_config = ConfigDict(extra="forbid")
    site: Site
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="Alert clips: length, store, retention")
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig,
                                       description="One alert per condition: updates while it lasts, an end after")
