"""`OnvifCamera`: device information, media profiles, stream and snapshot URIs, PullPoint events.

Built on onvif-zeep (docs/DEPENDENCIES-onvif.md says why not onvif-zeep-async). We work around
three habits of onvif-zeep 0.2.12 here, in one place:
- importing it calls `logging.basicConfig(level=INFO)`: we restore the root logger afterwards;
- its constructor opens a PullPoint subscription and never closes it: our subclass skips that;
- its wrappers turn every error into ONVIFError(str): we call the zeep proxies (`ws_client`)
  and classify the real exception into a short reason (`OnvifError.reason`).
Passwords never reach a log line: SOAP auth is a WS-Security digest, and stream URLs that carry
credentials are logged through `redact_url`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from ingest.config import CameraConfig, redact_url
from ingest.onvif.config import OnvifConfig

if TYPE_CHECKING:
    from ingest.onvif.pullpoint import PullPointPoller

log = logging.getLogger(__name__)
EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"


class OnvifError(RuntimeError):
    """An ONVIF request that failed; `reason` is a short metric label, the message names the camera."""

    def __init__(self, camera_id: str, operation: str, reason: str, detail: str):
        self.camera_id, self.operation, self.reason = camera_id, operation, reason
        super().__init__(f"camera {camera_id}: ONVIF {operation} failed ({reason}): {detail}")


def classify(exc: BaseException) -> str:
    """Short reason for an exception from zeep/requests/lxml: malformed, unauthorized, fault, unreachable, error."""
    from lxml import etree
    from requests import RequestException
    from zeep import exceptions as zx

    if type(exc).__name__ == "ONVIFError" and exc.__context__ is not None:
        exc = exc.__context__  # onvif-zeep re-raises everything as ONVIFError(str(err))
    if isinstance(exc, zx.Fault):
        text = f"{exc.message} {exc.subcodes or ''} {exc.code or ''}"
        return "unauthorized" if "NotAuthorized" in text or "not authorized" in text.lower() else "fault"
    if isinstance(exc, (etree.XMLSyntaxError, zx.XMLSyntaxError, zx.XMLParseError, zx.ValidationError,
                        zx.UnexpectedElementError, zx.LookupError, AttributeError, TypeError, ValueError)):
        return "malformed"
    if isinstance(exc, (RequestException, zx.TransportError, OSError)):
        return "unreachable"
    return "error"


@functools.cache
def onvif_module() -> Any:
    """`onvif.client`, imported once, without letting it reconfigure the process's logging."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    import onvif.client as mod

    root.handlers[:] = handlers
    root.setLevel(level)
    return mod


def wsdl_dir() -> Path:
    # onvif-zeep ships its WSDL as a top-level `wsdl/` folder beside the `onvif` package.
    return Path(onvif_module().__file__).resolve().parents[1] / "wsdl"


def reachable(xaddr: str, host: str, port: int) -> str:
    """`xaddr` pointed at the address we reached the camera on, when the camera names another host.

    A camera behind NAT or a port forward reports its internal address (http://192.168.1.64/...)
    in GetCapabilities and in subscription references; we keep the path and use our host:port.
    """
    parts = urlsplit(xaddr)
    if not parts.hostname or parts.hostname == host:
        return xaddr
    log.debug("ONVIF address %s rewritten to %s:%s", xaddr, host, port)
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path, parts.query, parts.fragment))


@functools.cache
def _device_class() -> type:
    mod = onvif_module()

    class _Device(mod.ONVIFCamera):
        def update_xaddrs(self) -> None:
            # The stock version also opens a PullPoint subscription it never closes; we only read
            # the service addresses from GetCapabilities.
            self.dt_diff = None
            self.devicemgmt = self.create_devicemgmt_service()
            caps = self.devicemgmt.ws_client.GetCapabilities(Category="All")
            self.xaddrs = {}
            for name in ("Device", "Media", "Events", "PTZ", "Imaging", "Analytics"):
                cap = getattr(caps, name, None)
                if cap is not None and name.lower() in mod.SERVICES:
                    self.xaddrs[mod.SERVICES[name.lower()]["ns"]] = reachable(cap.XAddr, self.host, self.port)

    return _Device


@dataclass(frozen=True)
class DeviceInfo:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str


@dataclass(frozen=True)
class MediaProfile:
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None


class OnvifCamera:
    """One ONVIF camera. Connecting (GetCapabilities) happens in the constructor, like onvif-zeep."""

    def __init__(self, host: str, port: int, user: str, password: str, *, camera_id: str = "onvif",
                 timeout_s: float = 10.0):
        from zeep.transports import Transport

        self.host, self.port, self.user, self.camera_id = host, int(port), user, camera_id
        self._password = password
        self.timeout_s = timeout_s
        self._transport = Transport(timeout=timeout_s, operation_timeout=timeout_s)
        self._media = None
        self._dev = self.call("GetCapabilities", lambda: _device_class()(
            host, self.port, user, password, no_cache=True, transport=self._transport))

    @classmethod
    def from_config(cls, cfg: OnvifConfig, camera_id: str = "onvif") -> OnvifCamera:
        return cls(cfg.host, cfg.port, cfg.user, cfg.password.get_secret_value(), camera_id=camera_id,
                   timeout_s=cfg.request_timeout_s)

    def __repr__(self) -> str:  # no password here: objects end up in log lines and tracebacks
        return f"OnvifCamera({self.camera_id!r}, {self.host}:{self.port}, user={self.user!r})"

    def call(self, operation: str, fn):
        """`fn()`, with any failure raised as OnvifError(camera id, operation, reason)."""
        try:
            return fn()
        except Exception as exc:  # every failure of a camera request becomes one OnvifError
            cause = exc.__context__ if type(exc).__name__ == "ONVIFError" and exc.__context__ else exc
            detail = f"{type(cause).__name__}: {cause}"[:300]
            raise OnvifError(self.camera_id, operation, classify(exc), detail) from exc

    @property
    def media(self):
        if self._media is None:
            self._media = self.service("media")
        return self._media

    def has_service(self, namespace: str) -> bool:
        """Whether GetCapabilities named an address for the service with this WSDL namespace."""
        return bool(self._dev.xaddrs.get(namespace))

    def service(self, name: str):
        """zeep proxy of onvif-zeep's service `name` ('media', 'ptz', 'imaging', ...)."""
        return self.call(f"{name} service", lambda: self._dev.create_onvif_service(name)).ws_client

    def device_info(self) -> DeviceInfo:
        r = self.call("GetDeviceInformation", self._dev.devicemgmt.ws_client.GetDeviceInformation)
        return DeviceInfo(r.Manufacturer, r.Model, r.FirmwareVersion, r.SerialNumber, r.HardwareId)

    def profiles(self) -> list[MediaProfile]:
        out = []
        for p in self.call("GetProfiles", self.media.GetProfiles) or []:
            enc = p.VideoEncoderConfiguration
            res = enc.Resolution if enc is not None else None
            out.append(MediaProfile(p.token, p.Name, enc.Encoding if enc is not None else None,
                                    res.Width if res is not None else None, res.Height if res is not None else None))
        return out

    def profile_token(self, profile: str | MediaProfile | None = None) -> str:
        """Token of `profile` given as token or name; the first profile when None."""
        if isinstance(profile, MediaProfile):
            return profile.token
        profs = self.profiles()
        for p in profs:
            if profile is None or profile in (p.token, p.name):
                return p.token
        known = ", ".join(f"{p.token} ({p.name})" for p in profs) or "none"
        raise OnvifError(self.camera_id, "GetProfiles", "no_profile", f"no profile {profile!r}; camera has {known}")

    def stream_uri(self, profile: str | MediaProfile | None = None, transport: str = "RTSP") -> str:
        token = self.profile_token(profile)
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": transport}}
        r = self.call("GetStreamUri", lambda: self.media.GetStreamUri(StreamSetup=setup, ProfileToken=token))
        return r.Uri

    def snapshot_uri(self, profile: str | MediaProfile | None = None) -> str:
        token = self.profile_token(profile)
        return self.call("GetSnapshotUri", lambda: self.media.GetSnapshotUri(ProfileToken=token)).Uri

    def events_xaddr(self) -> str:
        if not self.has_service(EVENTS_NS):
            raise OnvifError(self.camera_id, "GetCapabilities", "no_events", "camera has no events service")
        return self._dev.xaddrs[EVENTS_NS]

    def soap_service(self, wsdl: str, binding: str, address: str, plugins: list | None = None,
                     read_timeout_s: float | None = None):
        """A zeep service proxy for `binding` in onvif-zeep's `wsdl` file at `address`, with our auth.

        `read_timeout_s` lengthens the HTTP read timeout for long polls (PullMessages waits on
        the camera for up to its own Timeout before it answers).
        """
        from zeep import Client, Settings
        from zeep.transports import Transport

        transport = self._transport if read_timeout_s is None else Transport(
            timeout=self.timeout_s, operation_timeout=read_timeout_s)
        token = onvif_module().UsernameDigestTokenDtDiff(self.user, self._password, use_digest=True)
        client = Client(str(wsdl_dir() / wsdl), wsse=token, transport=transport,
                        settings=Settings(strict=False, xml_huge_tree=True), plugins=plugins or [])
        return client.create_service(binding, address)

    def events(self, **options) -> PullPointPoller:
        """A PullPoint poller yielding SensorEvents (options: see PullPointPoller)."""
        from ingest.onvif.pullpoint import PullPointPoller

        return PullPointPoller(self, **options)


def with_credentials(url: str, user: str, password: str) -> str:
    """`url` with user:password in it, unless it already has a user (percent-encoded)."""
    parts = urlsplit(url)
    if not user or parts.username or not parts.hostname:
        return url
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, f"{auth}@{parts.netloc}", parts.path, parts.query, parts.fragment))


def resolve_stream_url(cam: CameraConfig) -> str:
    """The URL to decode for `cam`: from GetStreamUri when it has an `onvif` block, else `cam.url`.

    A camera that cannot be asked leaves `cam.url` in place (logged with the reason), so a
    worker still tries the last known address instead of not starting the stream at all.
    """
    cfg = cam.onvif
    if cfg is None:
        return cam.url
    try:
        uri = OnvifCamera.from_config(cfg, cam.id).stream_uri(cfg.profile)
    except OnvifError as exc:
        log.warning("camera %s: ONVIF stream URI unavailable (%s), using url %s",
                    cam.id, exc.reason, redact_url(cam.url))
        return cam.url
    if cfg.rtsp_credentials:
        uri = with_credentials(uri, cfg.user, cfg.password.get_secret_value())
    log.info("camera %s: stream URL from ONVIF GetStreamUri: %s", cam.id, redact_url(uri))
    return uri


def with_onvif_stream(cam: CameraConfig) -> CameraConfig:
    """`cam` with its url resolved through ONVIF (a copy; `cam` itself is left alone)."""
    url = resolve_stream_url(cam)
    return cam if url == cam.url else cam.model_copy(update={"url": url})
