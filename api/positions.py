"""Position reports, the same for REST and MQTT: validated body and per-unit rate limit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS84 degrees")
    lon: float = Field(ge=-180, le=180, description="Longitude, WGS84 degrees")
