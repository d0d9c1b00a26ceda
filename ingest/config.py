"""`cameras.yaml`: the streams a worker decodes and the analysis defaults they share.

Credentials may sit inside camera URLs, so everything that logs or reports a URL goes through
`redact_url` first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.site import GeoPoint
from detectors.calibration import CalibrationConfig
from detectors.config import DetectorConfig, MotionConfig, TrackerConfig
from ingest.onvif.config import OnvifConfig

GENERATED_SCHEME = "generated"
_NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
# Query parameters some cameras use for credentials (e.g. ?user=admin&password=...).
_SECRET_PARAMS = {"password", "pass", "pwd", "passwd", "token", "key", "secret", "auth", "apikey"}


def redact_url(url: str) -> str:
    """`url` with the password and secret query values replaced by `***` (safe to log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if not parts.scheme or len(parts.scheme) == 1:  # plain path (or a Windows drive letter)
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_kind(url: str) -> Literal["rtsp", "http", "file", "generated"]:
    """Which source class reads `url`."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if scheme in ("http", "https"):
        return "http"
    if scheme == GENERATED_SCHEME:
        return "generated"
    return "file"


class CameraConfig(BaseModel):
    """One stream: where to read it, how often to analyse it, and per-camera overrides."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64,
                    description="Stable camera id (lower-case slug) used in alerts and metrics")
    name: str = Field(default="", description="Human name shown in the console")
    url: str = Field(
        min_length=1,
        description="rtsp://[user:pass@]host/path, http(s)://... (MJPEG/HLS), a video file path "
        "(relative paths are resolved against the config file's folder), or generated://scene "
        "for a synthetic test scene (options: ?fps=10&width=640&height=480&seed=0)",
    )
    kind: Literal["camera", "drone"] = Field(default="camera", description="Fixed camera or drone video")
    location: GeoPoint | None = Field(default=None, description="Where the camera stands (WGS84)")
    analysis_fps: float = Field(default=5, gt=0, le=60,
                                description="Frames per second passed to analysis; others are dropped by timestamp")
    enabled: bool = Field(default=True, description="Disabled cameras are not decoded")
    loop: bool = Field(default=False, description="Files only: start again at the end")
    realtime: bool = Field(
        default=True, description="Files and generated scenes: pace frames to the source's fps "
        "(timestamps are epoch seconds); false = as fast as possible (timestamps are media time)",
    )
    rtsp_transport: Literal["tcp", "udp"] = Field(default="tcp", description="RTSP media transport")
    decoder: Literal["auto", "pyav", "opencv"] = Field(
        default="auto", description="Who decodes: pyav skips the non-reference frames analysis does not need "
        "(B-frames: ~35 % less CPU on such streams); opencv decodes every frame. auto = pyav for files and "
        "RTSP, opencv for HTTP/MJPEG")
    open_timeout_s: float = Field(default=5, gt=0, le=120, description="Give up opening a stream after this long")
    read_timeout_s: float = Field(default=5, gt=0, le=120, description="A read blocked this long marks the stream lost")
    detector: DetectorConfig | None = Field(default=None, description="Overrides the file-wide detector settings")
    motion: MotionConfig | None = Field(default=None, description="Overrides the file-wide motion-gate settings")
    calibration: CalibrationConfig | None = Field(
        default=None, description="Image points with known lat/lon (four or more): alerts then carry the "
        "objects' ground positions, and the dispatcher routes to the object instead of the camera")
    worker: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Worker id that decodes this camera (static assignment across machines); empty = "
        "the workers started without --worker-id")
    onvif: OnvifConfig | None = Field(default=None, description="ONVIF camera: the stream URL comes from "
                                      "GetStreamUri (url is then the fallback) and its events become sensor events")

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        parts = urlsplit(v)
        scheme = parts.scheme.lower()
        if len(scheme) > 1 and scheme not in (*_NETWORK_SCHEMES, GENERATED_SCHEME, "file"):
            raise ValueError(f"unsupported URL scheme {scheme!r}; use rtsp, http(s), a file path or generated://scene")
        if scheme == GENERATED_SCHEME and parts.netloc != "scene":
            raise ValueError("the only generated source is generated://scene")
        if scheme in _NETWORK_SCHEMES and not parts.hostname:
            raise ValueError(f"{scheme} URL has no host")
        return v

    @property
    def source_kind(self) -> Literal["rtsp", "http", "file", "generated"]:
        return url_kind(self.url)

    def resolve_path(self, base_dir: Path | None) -> Path:
        """The video file this camera reads (file URLs only), relative to `base_dir`."""
        raw = self.url.removeprefix("file://")
        path = Path(raw).expanduser()
        return path if path.is_absolute() or base_dir is None else Path(base_dir) / path


class CamerasFile(BaseModel):
    """`cameras.yaml`: file-wide detector/motion/tracker defaults and the camera list."""

    model_config = ConfigDict(extra="forbid")
    detector: DetectorConfig = Field(default_factory=DetectorConfig, description="Detector for every camera unless overridden")
    motion: MotionConfig = Field(default_factory=MotionConfig, description="Motion gate for every camera unless overridden")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="Tracker settings")
    cameras: list[CameraConfig] = Field(default_factory=list, description="The streams this site watches")

    @field_validator("cameras")
    @classmethod
    def _unique_ids(cls, v: list[CameraConfig]) -> list[CameraConfig]:
        first: dict[str, int] = {}
        for i, cam in enumerate(v):
            if cam.id in first:
                raise ValueError(f"duplicate camera id {cam.id!r} (cameras[{first[cam.id]}] and cameras[{i}])")
            first[cam.id] = i
        return v

    def detector_for(self, cam: CameraConfig) -> DetectorConfig:
        return cam.detector or self.detector

    def motion_for(self, cam: CameraConfig) -> MotionConfig:
        return cam.motion or self.motion
