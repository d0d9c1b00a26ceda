"""Process settings for workers and `lookout run`, from the environment (LOOKOUT_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOOKOUT_", extra="ignore")

    config_dir: Path = Field(default=Path("configs"), description="Folder with site/cameras/rules YAML")
    data_dir: Path = Field(default=Path("var"), description="Outbox, snapshots, embedded bus")
    bus_url: str | None = Field(default=None, description="embedded:///path.db or kafka://host:port; default: embedded bus in data_dir")

    def resolved_bus_url(self) -> str:
        return self.bus_url or f"embedded://{(self.data_dir / 'bus.db').resolve()}"
