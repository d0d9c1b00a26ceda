"""The `onvif:` block of a camera in cameras.yaml: how to reach the camera's ONVIF services."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class OnvifConfig(BaseModel):
    """Where the camera's ONVIF device service is and which media profile to stream."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, description="Camera host name or IP address (the device service's host)")
    port: int = Field(default=80, ge=1, le=65535, description="HTTP port of the ONVIF device service")
    user: str = Field(default="", description="ONVIF user (WS-Security UsernameToken)")
    # SecretStr: the password prints as '**********' in reprs, logs and config dumps.
    password: SecretStr = Field(default=SecretStr(""), description="ONVIF password; never logged")
    profile: str | None = Field(
        default=None,
        description="Media profile token or name whose stream is analysed; empty = the camera's first profile",
    )
    rtsp_credentials: bool = Field(
        default=True,
        description="Put user/password into the RTSP URL from GetStreamUri (most cameras ask the same "
        "credentials at the RTSP level)",
    )
    events: bool = Field(default=True, description="Subscribe to the camera's events (PullPoint) as sensor events")
    request_timeout_s: float = Field(default=10, gt=0, le=120, description="HTTP timeout of one SOAP request")
    pull_timeout_s: float = Field(
        default=10, gt=0, le=60, description="How long one PullMessages may wait on the camera for events"
    )
    message_limit: int = Field(default=20, ge=1, le=1000, description="Most events one PullMessages returns")
    subscription_s: float = Field(
        default=60, ge=10, le=3600, description="PullPoint lifetime asked for; renewed before it runs out"
    )
