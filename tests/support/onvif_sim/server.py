"""A small ONVIF camera on loopback: device, media and events services over SOAP 1.2/HTTP.

Dispatch is on the body's first element (zeep puts the SOAP action in the Content-Type's
`action=` parameter, which we ignore). A PullPoint request is routed to its subscription by the
WS-Addressing `To` header when the client sends one, else by the URL path the subscription
reference named. Requests are authenticated with the WS-Security UsernameToken digest, like a
camera (GetSystemDateAndTime is open, as the standard requires). Every reply is checked against
the WSDL (`validate=True`) so the simulator cannot drift from the schema unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import isodate
from lxml import etree

from tests.support.onvif_sim import responses as r
from tests.support.onvif_sim.responses import SimEvent, SimProfile

_WSSE = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
_WSU = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}"
_SOAP = "{" + r.NS["s"] + "}"
_WSA_TO = "{" + r.NS["wsa"] + "}To"
SUBSCRIPTION_PATH = "/onvif/subscription/"
MAX_PULL_WAIT_S = 2.0  # caps a PullMessages long-poll so a test never waits on a client's long Timeout


class _Subscription:
    def __init__(self, sid: int, termination: datetime):
        self.sid = sid
        self.termination = termination
        self.queue: list[SimEvent] = []
        self.pulls = 0
        self.renewals = 0


class OnvifSimulator:
    """`with OnvifSimulator(rtsp_url=...) as sim:` then point a client at `sim.host`, `sim.port`.

    Knobs a test turns: `emit(SimEvent)` queues a notification for every live subscription (or for
    the next one, when none exists yet); `malformed[op] = n` makes the next n answers to `op`
    garbage; `subscription_ttl` sets the PullPoint lifetime. `calls` records each operation name.
    """

    def __init__(self, rtsp_url: str = "rtsp://127.0.0.1:8554/stream", user: str = "admin",
                 password: str = "sim-secret", profiles: list[SimProfile] | None = None,
                 subscription_ttl: timedelta = timedelta(seconds=60), validate: bool = True):
        self.user, self.password = user, password
        self.profiles = profiles or [
            SimProfile("profile_main", "MainStream", rtsp_url, width=1920, height=1080),
            SimProfile("profile_sub", "SubStream", rtsp_url.rstrip("/") + "_sub", width=640, height=360),
        ]
        self.subscription_ttl = subscription_ttl
        self.ptz = True  # announce a PTZ service with presets
        self.presets: dict[str, str] = {"1": "Gate", "2": "Yard"}  # preset token -> name
        self.ptz_moves: list[tuple[str, str]] = []  # (profile token, preset token) per GotoPreset
        self.validate = validate
        self.malformed: dict[str, int] = {}
        self.calls: list[str] = []
        self.subscriptions: dict[int, _Subscription] = {}
        self.unsubscribed: list[int] = []
        self.auth_failures = 0
        self.invalid_replies: list[str] = []
        self.clock_offset = timedelta(0)
        # Host:port the camera names in its service addresses; a camera behind NAT names its
        # internal address, which the client cannot reach. None = the address it listens on.
        self.advertised: str | None = None
        self.wsa_to: list[str] = []  # WS-Addressing To headers seen on subscription requests
        self._backlog: list[SimEvent] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> OnvifSimulator:
        sim = self

        class Handler(_Handler):
            simulator = sim

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="onvif-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OnvifSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        assert self._httpd is not None, "simulator not started"
        return self._httpd.server_address[1]

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def _advertised_base(self) -> str:
        return f"http://{self.advertised}" if self.advertised else self.base

    # -- test controls ---------------------------------------------------------------------------
    def emit(self, *events: SimEvent) -> None:
        with self._cond:
            live = list(self.subscriptions.values())
            for sub in live:
                sub.queue.extend(events)
            if not live:
                self._backlog.extend(events)
            self._cond.notify_all()

    def now(self) -> datetime:
        """The camera's clock: real time plus `clock_offset`, which a test moves to age subscriptions."""
        return datetime.now(timezone.utc) + self.clock_offset

    def count(self, operation: str) -> int:
        return self.calls.count(operation)

    def drop_subscriptions(self) -> None:
        """Forget every subscription, as a camera does when it reboots."""
        with self._cond:
            self.subscriptions.clear()
            self._cond.notify_all()

    # -- request handling ------------------------------------------------------------------------
    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            root = etree.fromstring(body)
        except etree.XMLSyntaxError:
            return 400, r.fault("Sender", "ter:WellFormed", "request is not XML")
        header = root.find(f"{_SOAP}Header")
        payload = root.find(f"{_SOAP}Body")
        if payload is None or len(payload) == 0:
            return 400, r.fault("Sender", "ter:WellFormed", "no SOAP body")
        request = payload[0]
        op = etree.QName(request).localname
        with self._cond:
            self.calls.append(op)
            bad = self.malformed.get(op, 0)
            if bad:
                self.malformed[op] = bad - 1
        if bad:
            return 200, b"<s:Envelope><s:Body><not-xml"  # what a crashing camera firmware sends
        if op != "GetSystemDateAndTime" and not self._authorised(header):
            self.auth_failures += 1
            return 400, r.fault("Sender", "ter:NotAuthorized", "Sender not authorized")
        now = self.now()
        try:
            status, reply = 200, r.envelope(self._answer(op, request, header, path, now))
        except LookupError as exc:
            status, reply = 400, r.fault("Sender", "ter:InvalidArgVal", str(exc))
        except NotImplementedError:
            status, reply = 400, r.fault("Sender", "ter:ActionNotSupported", f"{op} not supported")
        if status == 200 and self.validate:
            from tests.support.onvif_sim.validate import check_reply  # zeep loads lazily

            try:
                check_reply(op, reply)
            except AssertionError as exc:  # kept for the test's teardown to report; the reply goes out
                self.invalid_replies.append(str(exc))
        return status, reply

    def _authorised(self, header) -> bool:
        token = None if header is None else header.find(f"{_WSSE}Security/{_WSSE}UsernameToken")
        if token is None:
            return False
        user = token.findtext(f"{_WSSE}Username")
        pw = token.find(f"{_WSSE}Password")
        nonce = token.findtext(f"{_WSSE}Nonce") or ""
        created = token.findtext(f"{_WSU}Created") or ""
        if user != self.user or pw is None:
            return False
        if (pw.get("Type") or "").endswith("#PasswordDigest"):
            digest = hashlib.sha1(base64.b64decode(nonce) + created.encode() + self.password.encode()).digest()
            return base64.b64encode(digest).decode() == (pw.text or "")
        return pw.text == self.password

    def _subscription(self, header, path: str) -> _Subscription:
        found = [] if header is None else [el.text for el in header.findall(_WSA_TO)]
        if len(found) > 1:
            raise LookupError(f"{len(found)} WS-Addressing To headers")  # a real camera refuses this too
        to = found[0] if found else None
        if to:
            self.wsa_to.append(to)
        where = to or path
        try:
            sid = int(where.rsplit(SUBSCRIPTION_PATH, 1)[1])
        except (IndexError, ValueError):
            raise LookupError(f"no subscription at {where}") from None
        sub = self.subscriptions.get(sid)
        if sub is None or sub.termination < self.now():
            self.subscriptions.pop(sid, None)
            raise LookupError(f"subscription {sid} unknown or expired")
        return sub

    def _answer(self, op: str, req, header, path: str, now: datetime) -> str:
        if op == "GetSystemDateAndTime":
            return r.system_date_and_time(now)
        if op == "GetCapabilities":
            return r.capabilities(self._advertised_base, ptz=self.ptz)
        if op == "GetServices":
            return r.services(self._advertised_base)
        if op == "GetDeviceInformation":
            return r.device_information("Lookout", "OnvifSim", "1.0", "SIM0001")
        if op == "GetProfiles":
            return r.profiles(self.profiles)
        if op in ("GetStreamUri", "GetSnapshotUri"):
            token = req.findtext("{%s}ProfileToken" % r.NS["trt"])
            prof = next((p for p in self.profiles if p.token == token), None)
            if prof is None:
                raise LookupError(f"no profile {token!r}")
            uri = prof.stream_uri if op == "GetStreamUri" else prof.snapshot_uri
            return r.media_uri(f"{op}Response", uri)
        if op == "GetEventProperties":
            return r.event_properties()
        if op == "CreatePullPointSubscription":
            with self._cond:
                sub = _Subscription(next(self._ids), now + self.subscription_ttl)
                sub.queue, self._backlog = self._backlog, []
                self.subscriptions[sub.sid] = sub
            return r.create_pull_point(f"{self._advertised_base}{SUBSCRIPTION_PATH}{sub.sid}", now, sub.termination)
        if op == "PullMessages":
            return self._pull(req, header, path)
        if op == "Renew":
            sub = self._subscription(header, path)
            sub.renewals += 1
            sub.termination = self.now() + self.subscription_ttl
            return r.renew(now, sub.termination)
        if op == "Unsubscribe":
            sub = self._subscription(header, path)
            with self._cond:
                self.subscriptions.pop(sub.sid, None)
                self.unsubscribed.append(sub.sid)
            return r.EMPTY[op]
        if op in ("GetPresets", "GotoPreset", "SetPreset") and self.ptz:
            return self._ptz(op, req)
        if op == "SetSynchronizationPoint":
            self._subscription(header, path)
            return r.EMPTY[op]
        raise NotImplementedError(op)

    def _ptz(self, op: str, req) -> str:
        ns = "{%s}" % r.NS["tptz"]
        profile = req.findtext(f"{ns}ProfileToken")
        if not any(p.token == profile for p in self.profiles):
            raise LookupError(f"no profile {profile!r}")
        if op == "GetPresets":
            return r.presets(self.presets)
        if op == "GotoPreset":
            preset = req.findtext(f"{ns}PresetToken")
            if preset not in self.presets:
                raise LookupError(f"no preset {preset!r}")
            self.ptz_moves.append((profile, preset))
            return r.EMPTY[op]
        token = req.findtext(f"{ns}PresetToken") or str(len(self.presets) + 1)
        self.presets[token] = req.findtext(f"{ns}PresetName") or f"Preset {token}"
        return r.set_preset(token)

    def _pull(self, req, header, path: str) -> str:
        sub = self._subscription(header, path)
        timeout = isodate.parse_duration(req.findtext("{%s}Timeout" % r.NS["tev"]) or "PT1S")
        limit = int(req.findtext("{%s}MessageLimit" % r.NS["tev"]) or "1")
        wait = min(timeout.total_seconds(), MAX_PULL_WAIT_S)
        with self._cond:
            sub.pulls += 1
            self._cond.wait_for(lambda: sub.queue or sub.sid not in self.subscriptions, timeout=wait)
            events, sub.queue = sub.queue[:limit], sub.queue[limit:]
        return r.pull_messages(events, self.now(), sub.termination)


class _Handler(BaseHTTPRequestHandler):
    simulator: OnvifSimulator
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        status, reply = self.simulator.handle(self.path, self.rfile.read(length))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (its read timeout), as it may

    def log_message(self, *args) -> None:  # keep test output quiet
        pass
