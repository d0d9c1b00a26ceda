"""Signed webhooks to external push gateways (SMS, app push, radio bridges).

Each order event is POSTed as JSON to every gateway that takes the unit. The gateway checks
`X-Lookout-Signature: sha256=<hex>`, the HMAC-SHA256 of `<X-Lookout-Timestamp>.<body>` under the
shared secret, and rejects old timestamps (replay). A sender thread per gateway keeps order and
never blocks the engine; failures are retried with backoff, then receipted as failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from api.receipts import Receipts
from api.settings import WebhookTarget

log = logging.getLogger(__name__)
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Lookout-Signature", "X-Lookout-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, max_age_s: float = 300) -> bool:
    """What a gateway does (and what our tests do): constant-time compare, reject stale timestamps."""
    try:
        fresh = abs(now - float(timestamp)) <= max_age_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


class _Sender(threading.Thread):
    def __init__(self, target: WebhookTarget, receipts: Receipts | None, clock: Callable[[], float],
                 attempts: int, backoff_s: float):
        super().__init__(name="lookout-webhook", daemon=True)
        self.target, self.receipts, self.clock = target, receipts, clock
        self.attempts, self.backoff_s = attempts, backoff_s
        self.q: queue.Queue[dict[str, Any] | None] = queue.Queue(10_000)
        self.client = httpx.Client(timeout=10.0)
        self.stop = threading.Event()

    def run(self) -> None:
        while (ev := self.q.get()) is not None:
            status, detail = self._send(ev)
            if self.receipts is not None:
                self.receipts.record_event(ev, "webhook", self.target.url, status, detail)
            self.q.task_done()
        self.q.task_done()
        self.client.close()

    def _send(self, ev: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        body = json.dumps(ev, separators=(",", ":")).encode()
        detail: dict[str, Any] = {}
        for attempt in range(1, self.attempts + 1):
            ts = str(int(self.clock()))
            try:
                r = self.client.post(self.target.url, content=body, headers={
                    "Content-Type": "application/json", TIMESTAMP_HEADER: ts,
                    SIGNATURE_HEADER: sign(self.target.secret, ts, body)})
                detail = {"http_status": r.status_code, "attempts": attempt}
                if r.is_success:
                    return "delivered", detail
                if 400 <= r.status_code < 500 and r.status_code not in (408, 429):
                    break  # the gateway refuses this event (bad signature, unknown unit): retrying will not help
            except httpx.HTTPError as exc:
                detail = {"error": type(exc).__name__, "attempts": attempt}
            if attempt < self.attempts and self.stop.wait(self.backoff_s * 2 ** (attempt - 1)):
                break
        log.warning("webhook %s: order event not delivered: %s", self.target.url, detail)
        return "failed", detail


class WebhookChannel:
    def __init__(self, targets: list[WebhookTarget], receipts: Receipts | None = None,
                 clock: Callable[[], float] = time.time, attempts: int = 3, backoff_s: float = 0.5):
        self.senders = [_Sender(t, receipts, clock, attempts, backoff_s) for t in targets]
        for s in self.senders:
            s.start()

    def publish(self, ev: dict[str, Any]) -> None:
        order = ev.get("order")
        if ev.get("type") != "order" or not order:
            return
        for s in self.senders:
            if s.target.units is None or order["responder_id"] in s.target.units:
                try:
                    s.q.put_nowait(ev)
                except queue.Full:
                    log.warning("webhook %s: queue full, event dropped", s.target.url)

    def join(self) -> None:
        """Wait until every queued event was sent or given up (tests)."""
        for s in self.senders:
            s.q.join()

    def close(self) -> None:
        for s in self.senders:
            s.stop.set()
            s.q.put(None)
            s.join(15)
