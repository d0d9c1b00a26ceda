"""PullPoint subscription of one camera as an iterator of SensorEvents.

Lifecycle: CreatePullPointSubscription → PullMessages (long poll) ... Renew before the
subscription's termination → Unsubscribe on close(). Camera trouble never escapes `poll()`:
a malformed reply is logged with the camera id and reason, counted, and the same subscription is
pulled again; a fault or an unreachable camera drops the subscription and a new one is made after
a backoff (0.5 s doubling to 10 s). Time left on a subscription is measured on our monotonic
clock from the camera's (TerminationTime - CurrentTime), so a camera whose clock is wrong is
still renewed on time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

from lxml import etree
from prometheus_client import Counter as PromCounter
from zeep.plugins import Plugin

from ingest.onvif.client import EVENTS_NS, OnvifCamera, classify, reachable
from ingest.onvif.events import WSNT, NotificationError, to_sensor_event
from rules.sensor_events import SensorEvent

log = logging.getLogger(__name__)

ONVIF_EVENTS = PromCounter("lookout_onvif_events", "ONVIF notifications turned into sensor events", ["camera", "kind"])
ONVIF_ERRORS = PromCounter("lookout_onvif_errors", "ONVIF requests or notifications that failed, by reason",
                           ["camera", "reason"])
BACKOFF_START_S, BACKOFF_CAP_S = 0.5, 10.0
_PULLPOINT = f"{{{EVENTS_NS}}}PullPointSubscriptionBinding"
_MANAGER = f"{{{EVENTS_NS}}}SubscriptionManagerBinding"
_SOAP_HEADER = "{http://www.w3.org/2003/05/soap-envelope}Header"
_WSA_TO = "{http://www.w3.org/2005/08/addressing}To"


class _KeepReply(Plugin):
    """Keeps the last reply envelope: we read notifications from the XML, not zeep's objects."""

    def __init__(self):
        self.envelope: etree._Element | None = None

    def ingress(self, envelope, http_headers, operation):
        self.envelope = envelope
        return envelope, http_headers


class _WsaTo(Plugin):
    """WS-Addressing headers with `To` = the subscription address as the camera named it.

    zeep adds WS-Addressing itself for operations whose WSDL declares an action (PullMessages),
    with `To` = the URL it posts to; we correct that `To` instead of adding a second header set,
    and add the headers where zeep did not (Renew, Unsubscribe).
    """

    def __init__(self, address: str):
        self.address = address

    def egress(self, envelope, http_headers, operation, binding_options):
        from zeep.wsa import WsAddressingPlugin

        to = envelope.findall(f"{_SOAP_HEADER}/{_WSA_TO}")
        if not to:
            return WsAddressingPlugin(self.address).egress(envelope, http_headers, operation, binding_options)
        for el in to:
            el.text = self.address
        return envelope, http_headers


def _seconds_left(reply) -> float | None:
    try:
        return (reply.TerminationTime - reply.CurrentTime).total_seconds()
    except (AttributeError, TypeError):
        return None


class PullPointPoller(Iterator[SensorEvent]):
    """`for ev in camera.events(): ...`; `close()` (from any thread) ends it and unsubscribes."""

    def __init__(self, camera: OnvifCamera, *, pull_timeout_s: float = 10.0, message_limit: int = 20,
                 subscription_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.camera = camera
        self.pull_timeout_s, self.message_limit, self.subscription_s = pull_timeout_s, message_limit, subscription_s
        self.clock = clock
        self.errors: Counter[str] = Counter()  # by reason, also exported as lookout_onvif_errors
        self.events = 0
        self.ignored = 0  # notifications on topics we do not map
        self.subscriptions = 0
        self.renewals = 0
        self._closed = threading.Event()
        # Held while a round talks to the camera, so close() from another thread never sends
        # Unsubscribe beside a PullMessages in flight: the polling thread does it after the pull.
        self._lock = threading.Lock()
        self._address: str | None = None
        self._deadline = 0.0  # monotonic time the subscription ends
        self._pull = self._manager = None
        self._reply = _KeepReply()
        self._backoff = BACKOFF_START_S
        self._pending: list[SensorEvent] = []
        self._events_svc = None

    @property
    def camera_id(self) -> str:
        return self.camera.camera_id

    @property
    def subscribed(self) -> bool:
        return self._address is not None

    # -- one round ---------------------------------------------------------------------------
    def poll(self) -> list[SensorEvent]:
        """Subscribe or renew as needed, pull once, and return the events; never raises for the camera."""
        with self._lock:
            out = [] if self._closed.is_set() else self._poll_once()
            if self._closed.is_set():  # closed before or during this round: we unsubscribe
                self._unsubscribe()
            return out

    def _poll_once(self) -> list[SensorEvent]:
        op = "CreatePullPointSubscription"
        try:
            if self._address is None:
                self._subscribe()
            elif self._deadline - self.clock() < self._renew_margin():
                op = "Renew"
                self._renew()
            op = "PullMessages"
            self._reply.envelope = None
            reply = self._pull.PullMessages(Timeout=f"PT{self.pull_timeout_s:g}S", MessageLimit=self.message_limit)
        except Exception as exc:  # any failure of the camera is counted and survived
            self._failed(op, exc)
            return []
        self._backoff = BACKOFF_START_S
        left = _seconds_left(reply)
        if left is not None:
            self._deadline = self.clock() + left
        return self._events_from(self._reply.envelope)

    def _renew_margin(self) -> float:
        # Renew while a whole pull still fits, with a third of the lifetime to spare for retries.
        return self.pull_timeout_s + self.subscription_s / 3

    def _subscribe(self) -> None:
        if self._events_svc is None:
            self._events_svc = self.camera.soap_service("events.wsdl", f"{{{EVENTS_NS}}}EventBinding",
                                                        self.camera.events_xaddr())
        reply = self._events_svc.CreatePullPointSubscription(InitialTerminationTime=f"PT{self.subscription_s:g}S")
        address = reply.SubscriptionReference.Address._value_1
        if not address:
            raise ValueError("CreatePullPointSubscription returned no subscription address")
        # WS-Addressing headers carry the subscription address in `To`, as the camera gave it:
        # cameras that serve every subscription on one URL tell them apart by it. We send the
        # requests to the same path on the host we reach the camera on (NAT, port forwards).
        url = reachable(address, self.camera.host, self.camera.port)
        self._pull = self.camera.soap_service("events.wsdl", _PULLPOINT, url, plugins=[_WsaTo(address), self._reply],
                                              read_timeout_s=self.pull_timeout_s + self.camera.timeout_s)
        self._manager = self.camera.soap_service("events.wsdl", _MANAGER, url, plugins=[_WsaTo(address)])
        self._address = address
        self._deadline = self.clock() + (_seconds_left(reply) or self.subscription_s)
        self.subscriptions += 1
        log.info("camera %s: ONVIF PullPoint subscription %s", self.camera_id, address)

    def _renew(self) -> None:
        reply = self._manager.Renew(TerminationTime=f"PT{self.subscription_s:g}S")
        self._deadline = self.clock() + (_seconds_left(reply) or self.subscription_s)
        self.renewals += 1

    def _failed(self, op: str, exc: Exception) -> None:
        reason = classify(exc)
        self._count_error(reason)
        log.warning("camera %s: ONVIF %s failed (%s): %s", self.camera_id, op, reason,
                    f"{type(exc).__name__}: {exc}"[:300])
        if reason != "malformed":
            # A fault (subscription unknown or expired) or a lost camera: start a new subscription.
            self._address = self._pull = self._manager = None
        self._closed.wait(self._backoff)
        self._backoff = min(self._backoff * 2, BACKOFF_CAP_S)

    def _count_error(self, reason: str) -> None:
        self.errors[reason] += 1
        ONVIF_ERRORS.labels(camera=self.camera_id, reason=reason).inc()

    def _events_from(self, envelope) -> list[SensorEvent]:
        if envelope is None:
            return []
        now = time.time()
        out = []
        for note in envelope.iter(f"{WSNT}NotificationMessage"):
            try:
                ev = to_sensor_event(note, self.camera_id, now)
            except (NotificationError, ValueError) as exc:  # ValueError: SensorEvent refused a field
                reason = exc.reason if isinstance(exc, NotificationError) else "invalid"
                self._count_error(reason)
                log.warning("camera %s: ONVIF notification skipped (%s): %s", self.camera_id, reason, str(exc)[:300])
                continue
            if ev is None:
                self.ignored += 1
                continue
            self.events += 1
            ONVIF_EVENTS.labels(camera=self.camera_id, kind=ev.kind).inc()
            out.append(ev)
        return out

    # -- iteration and shutdown ----------------------------------------------------------------
    def __iter__(self) -> PullPointPoller:
        return self

    def __next__(self) -> SensorEvent:
        while not self._pending:
            if self._closed.is_set():
                with self._lock:
                    self._unsubscribe()
                raise StopIteration
            self._pending = self.poll()
        return self._pending.pop(0)

    def close(self) -> None:
        """Stop iterating and unsubscribe (now, or after a pull in flight, within pull_timeout_s)."""
        self._closed.set()
        if self._lock.acquire(blocking=False):
            try:
                self._unsubscribe()
            finally:
                self._lock.release()

    def _unsubscribe(self) -> None:
        manager, self._manager, self._address = self._manager, None, None
        if manager is None:
            return
        try:
            manager.Unsubscribe()
        except Exception as exc:  # the camera forgets it at TerminationTime anyway
            log.info("camera %s: ONVIF Unsubscribe failed (%s)", self.camera_id, classify(exc))

    def __enter__(self) -> PullPointPoller:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

