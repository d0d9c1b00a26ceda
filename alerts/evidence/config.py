"""The `evidence:` section of site.yaml: clip length, pre-buffer limits, store, retention."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class S3Config(BaseModel):
    """An S3-compatible bucket. Credentials are read from the environment variables named here,
    never written in the file, and never logged."""

    model_config = ConfigDict(extra="forbid")
    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$",
                        description="Bucket name (must exist)")
    prefix: str = Field(default="lookout/", description="Key prefix, e.g. `site-a/`")
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://",
                                     description="S3-compatible endpoint (MinIO, SeaweedFS); unset: AWS")
    region: str = Field(default="us-east-1", description="Region for request signing")
    access_key_env: str = Field(default="AWS_ACCESS_KEY_ID", description="Env var holding the access key id")
    secret_key_env: str = Field(default="AWS_SECRET_ACCESS_KEY", description="Env var holding the secret key")

    @field_validator("access_key_env", "secret_key_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if not _ENV_NAME.match(v):
            raise ValueError(f"not an environment variable name: {v!r} (name the variable, not the secret)")
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        v = v.lstrip("/")
        return v if not v or v.endswith("/") else v + "/"


class EvidenceConfig(BaseModel):
    """Clip recording around each alert. Defaults: 5 s before + 5 s after, kept 30 days locally."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Record a clip for each alert")
    pre_s: float = Field(default=5.0, ge=0, le=60, description="Seconds of video before the alert")
    post_s: float = Field(default=5.0, ge=0, le=60, description="Seconds of video after the alert")
    max_width: int = Field(default=960, ge=160, le=3840, description="Wider frames are scaled down")
    jpeg_quality: int = Field(default=80, ge=30, le=100, description="Pre-buffer JPEG quality")
    buffer_mb_per_camera: float = Field(default=32.0, gt=0, description="Cap of one camera's pre-buffer")
    store: Literal["local", "s3"] = Field(default="local", description="Where clips go")
    local_root: Path | None = Field(default=None, description="Local store folder; default <data dir>/evidence")
    s3: S3Config | None = Field(default=None, description="Bucket settings, required when store is s3")
    retention_days: float = Field(default=30.0, gt=0, description="Clips and snapshots older than this are deleted")
    max_gb: float | None = Field(default=None, gt=0, description="Also delete the oldest beyond this size (local)")
    retention_every_s: float = Field(default=3600.0, ge=10, description="How often the worker applies retention")

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> "EvidenceConfig":
        if self.store == "s3" and self.s3 is None:
            raise ValueError("store is s3 but the `s3:` section (bucket, endpoint_url, ...) is missing")
        return self

    def local_dir(self, data_dir: Path) -> Path:
        """The local store's folder; a relative `local_root` is taken from the data dir."""
        if self.local_root is None:
            return Path(data_dir) / "evidence"
        return self.local_root if self.local_root.is_absolute() else Path(data_dir) / self.local_root
