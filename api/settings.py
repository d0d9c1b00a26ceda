"""Service settings from the environment (prefix `LOOKOUT_`), e.g. `LOOKOUT_DB_URL`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["operator", "engineer", "unit", "service", "admin"]


class TokenInfo(BaseModel):
    """Who a bearer token stands for."""

    model_config = ConfigDict(extra="forbid")
    role: Role = Field(description="What the bearer may do")
    subject: str = Field(description="Who: a user name, or the responder id for role `unit`")
    node: str | None = Field(default=None, description="Org node (org.yaml): sees incidents of it and below")


class WebhookTarget(BaseModel):
    """An external push gateway: order events are POSTed as JSON, signed with HMAC-SHA256."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(pattern=r"^https?://", description="Where order events are POSTed")
    secret: str = Field(min_length=16, repr=False, description="HMAC key; never logged")
    units: list[str] | None = Field(default=None, description="Only these units' orders; unset: every unit")


def _default_bus_url() -> str:
    # Absolute path: the worker and the API may run from different working directories.
    return f"embedded:///{Path('var').resolve().as_posix().lstrip('/')}/bus.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOOKOUT_", extra="ignore")

    db_url: str = Field(default="sqlite:///var/lookout.db", description="SQLAlchemy URL of the store")
    bus_url: str = Field(default_factory=_default_bus_url, description="embedded:///path.db or kafka://host:port")
    config_dir: Path = Field(default=Path("configs"), description="Folder with responders.yaml and dispatch.yaml")
    data_dir: Path = Field(default=Path("var"), description="Folder with snapshots; only files under it are served")
    host: str = Field(default="127.0.0.1", description="Listen address")
    port: int = Field(default=8080, description="Listen port")
    tokens: dict[str, TokenInfo] = Field(
        default_factory=dict, repr=False, description='JSON: {"token": {"role": "operator", "subject": "alice"}}'
    )
    dispatcher_enabled: bool = Field(default=True, description="Consume the alert topic in this process")
    group_id: str = Field(default="lookout-dispatcher", description="Consumer group of the dispatcher")
    tick_interval_s: float = Field(default=1.0, description="How often deadlines are checked (wall seconds)")
    sse_keepalive_s: float = Field(
        default=15.0, gt=0, description="Comment frame interval on idle streams, so proxies and clients see a live link"
    )
    stream_recheck_s: float = Field(
        default=30.0, gt=0, description="How often an open SSE/WebSocket stream of a login user checks that the "
        "user is still enabled with the same role and node; a changed user's stream is closed"
    )
    position_rate_per_s: float = Field(
        default=1.0, gt=0, description="Position updates per second each unit may send (REST and MQTT) on average"
    )
    position_burst: int = Field(default=10, ge=1, description="Position updates a unit may send at once")
    mqtt_url: str | None = Field(
        default=None, description="mqtt://host:port of the broker for unit positions and order push; unset: off"
    )
    webhooks: list[WebhookTarget] = Field(
        default_factory=list, description='JSON: [{"url": "https://gw/push", "secret": "..."}] push gateways'
    )
    # Password login (api.users, api.routes.auth). Unset secret: a random one per process (a warning
    # says so): tokens then die with the process and are not shared between API instances.
    jwt_secret: SecretStr | None = Field(
        default=None, min_length=32, description="HS256 key for login tokens (≥32 chars); never logged"
    )
    jwt_ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 86400, description="Lifetime of a login token (one shift)")
    login_user_rate_per_s: float = Field(
        default=1 / 30, gt=0, description="Login attempts per second per username on average (after the burst)"
    )
    login_user_burst: int = Field(default=5, ge=1, description="Login attempts a username may make at once")
    login_ip_rate_per_s: float = Field(
        default=0.2, gt=0, description="Login attempts per second per client address on average"
    )
    login_ip_burst: int = Field(default=20, ge=1, description="Login attempts a client address may make at once")
    # Fence editor "Try on recording" (api/replay_jobs.py).
    recordings_dir: Path | None = Field(
        default=None, description="Recorded clips per camera (<dir>/<camera>.mp4, <dir>/<camera>/*.mp4); unset: <config_dir>/recordings"
    )
    replay_timeout_s: float = Field(default=300.0, gt=0, description="A fence-editor replay is stopped after this long")
