"""Signed webhooks: each alert is POSTed as JSON to a receiver's URL.

Signing (verify with `verify_signature`):
- `X-Lookout-Timestamp`: Unix seconds when the request was signed.
- `X-Lookout-Signature: sha256=<hex>`: HMAC-SHA256 with the shared secret over
  `<timestamp>.<body>` (the timestamp header's text, a dot, then the raw body bytes). The
  timestamp is inside the MAC so a captured request cannot be replayed later with a new
  timestamp; receivers reject timestamps older than a tolerance (5 min by default).
- `X-Lookout-Delivery`: the message's `delivery_id`; the same on every retry, so receivers dedupe.

Retries: connection errors, timeouts, 408, 425, 429 and 5xx are retried with exponential backoff
up to `max_attempts`; then the batch fails and the bridge loop delivers it again later (nothing is
committed). 401/403 fail the batch the same way (a wrong secret is a config error to fix, not a
reason to drop alerts). Any other 4xx means the receiver rejects this alert for good: it is
logged and counted in `rejected`, and the bridge goes on.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from alerts.bridges.loop import BridgeError
from alerts.model import Alert

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Lookout-Signature"
TIMESTAMP_HEADER = "X-Lookout-Timestamp"
DELIVERY_HEADER = "X-Lookout-Delivery"
_RETRYABLE = {401, 403, 408, 425, 429}


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="Receiver URL (https in production)")
    secret: SecretStr = Field(description="Shared secret for the HMAC-SHA256 signature")
    timeout_s: float = Field(default=5.0, gt=0, description="Per-request timeout")
    max_attempts: int = Field(default=5, ge=1, description="Attempts per alert before the batch fails")
    backoff_s: float = Field(default=0.5, gt=0, description="First retry delay; doubles each attempt")
    max_backoff_s: float = Field(default=30.0, gt=0, description="Ceiling of the retry delay")


def sign(secret: str | bytes, body: bytes, timestamp: str) -> str:
    """The `X-Lookout-Signature` value for `body` sent at `timestamp` (Unix seconds, as text)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str | bytes, body: bytes, timestamp: str | None, signature: str | None,
                     *, tolerance_s: float = 300.0, now: float | None = None) -> bool:
    """For receivers: True when the request was signed with `secret` within `tolerance_s`.

    Pass the raw body bytes (before any JSON parsing) and the two headers' values.
    """
    if not timestamp or not signature:
        return False
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), signature)


class WebhookSink:
    """Counters: `sent` (acknowledged with 2xx), `rejected` (permanent 4xx), `retries`."""

    def __init__(self, config: WebhookConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self._client = client or httpx.Client(timeout=config.timeout_s)
        self.sent = self.rejected = self.retries = 0

    def _post(self, alert: Alert) -> httpx.Response:
        body = alert.to_json()
        ts = str(int(time.time()))  # signed afresh per attempt: a retry is not a stale request
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(self.config.secret.get_secret_value(), body, ts),
            DELIVERY_HEADER: alert.delivery_id,
        }
        return self._client.post(self.config.url, content=body, headers=headers)

    def deliver_one(self, alert: Alert) -> None:
        delay, last = self.config.backoff_s, "no attempt"
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                response = self._post(alert)
                status = response.status_code
                if 200 <= status < 300:
                    self.sent += 1
                    return
                if 400 <= status < 500 and status not in _RETRYABLE:
                    self.rejected += 1
                    log.error("webhook %s rejected alert %s with %d: %s", self.config.url, alert.delivery_id,
                              status, response.text[:200])
                    return
                last = f"HTTP {status}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.config.max_attempts:
                self.retries += 1
                time.sleep(delay)
                delay = min(delay * 2, self.config.max_backoff_s)
        raise BridgeError(f"webhook {self.config.url}: {alert.delivery_id} not accepted after "
                          f"{self.config.max_attempts} attempts ({last})")

    def deliver(self, alerts: list[Alert]) -> None:
        for alert in alerts:  # in order: a receiver sees an alert's start before its updates
            self.deliver_one(alert)

    def close(self) -> None:
        self._client.close()
