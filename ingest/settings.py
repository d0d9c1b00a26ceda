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
    opencv_threads: int = Field(
        default=1, ge=0, description="OpenCV worker threads in the analysis process (0 = one per core). One: the "
        "decoder processes already keep every core busy, and OpenCV's thread pool then costs more CPU in hand-offs "
        "than it saves (~20 % of the analysis process's CPU, docs/benchmarks.md \"Ingest capacity\")")

    def resolved_bus_url(self) -> str:
        return self.bus_url or f"embedded://{(self.data_dir / 'bus.db').resolve()}"


def apply_opencv_threads(threads: int) -> None:
    """Size OpenCV's thread pool for this process (the worker's analysis process)."""
    import cv2

    cv2.setNumThreads(threads if threads > 0 else -1)
