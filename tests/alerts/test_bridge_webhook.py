"""Signed webhooks against a real HTTP server on loopback that verifies every signature."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from alerts.bridges.loop import BridgeError, BridgeLoop
from alerts.bridges.webhook import (
    DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookConfig, WebhookSink, sign, verify_signature,
)
from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC, Alert
from tests.alerts.conftest import sample_alert
from tests.support.tansu import free_port

SECRET = "s3cret-for-tests"


class Receiver:
    """A receiver as a customer would write one: verify, then accept. `fail_next` answers that many
    requests with `fail_status` first."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes, bool]] = []
        self.fail_next, self.fail_status = 0, 503
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify_signature(SECRET, body, self.headers.get(TIMESTAMP_HEADER),
                                      self.headers.get(SIGNATURE_HEADER))
                status = 204 if ok else 401
                if outer.fail_next > 0:
                    outer.fail_next -= 1
                    status = outer.fail_status
                else:
                    outer.received.append((dict(self.headers), body, ok))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _config(url: str, **kw) -> WebhookConfig:
    return WebhookConfig(url=url, secret=SECRET, backoff_s=0.05, max_backoff_s=0.2, **kw)


def test_signature_round_trip_and_rejections():
    body, ts = b'{"a":1}', str(int(time.time()))
    sig = sign(SECRET, body, ts)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify_signature(SECRET, body, ts, sig)
    assert not verify_signature(SECRET, body + b" ", ts, sig)  # tampered body
    assert not verify_signature("other", body, ts, sig)  # wrong secret
    assert not verify_signature(SECRET, body, str(int(ts) + 1), sig)  # timestamp is signed too
    assert not verify_signature(SECRET, body, ts, sig, now=int(ts) + 301)  # replayed later
    assert not verify_signature(SECRET, body, None, sig) and not verify_signature(SECRET, body, "x", sig)


def test_retries_with_backoff_then_delivers_signed_alerts(receiver, tmp_path: Path):
    bus = open_bus(f"embedded://{tmp_path / 'bus.db'}")
    alerts = [sample_alert(i) for i in range(3)]
    producer = bus.producer()
    for a in alerts:
        producer.send(ALERTS_TOPIC, a.to_json(), a.key)
    producer.flush()
    receiver.fail_next = 2  # the receiver is briefly unhealthy
    sink = WebhookSink(_config(receiver.url))
    loop = BridgeLoop(bus, sink, "hook")
    assert loop.run_once() == 3
    assert sink.retries == 2 and sink.sent == 3
    assert all(ok for _, _, ok in receiver.received)
    assert [Alert.from_json(b) for _, b, _ in receiver.received] == alerts  # in order
    assert [h[DELIVERY_HEADER] for h, _, _ in receiver.received] == [a.delivery_id for a in alerts]
    assert bus.consumer([ALERTS_TOPIC], "hook").poll(timeout=0.2) == []  # committed


def test_a_receiver_that_stays_down_leaves_the_batch_uncommitted(tmp_path: Path):
    bus = open_bus(f"embedded://{tmp_path / 'bus.db'}")
    producer = bus.producer()
    producer.send(ALERTS_TOPIC, sample_alert(1).to_json())
    producer.flush()
    sink = WebhookSink(_config(f"http://127.0.0.1:{free_port()}/hook", max_attempts=3, timeout_s=1))
    with pytest.raises(BridgeError, match="3 attempts"):
        BridgeLoop(bus, sink, "hook").run_once()
    assert sink.retries == 2
    assert len(bus.consumer([ALERTS_TOPIC], "hook").poll(timeout=0.5)) == 1  # still there to deliver


def test_permanent_rejection_is_counted_and_skipped(receiver):
    receiver.fail_next, receiver.fail_status = 1, 422
    sink = WebhookSink(_config(receiver.url))
    sink.deliver([sample_alert(1), sample_alert(2)])
    assert sink.rejected == 1 and sink.sent == 1 and sink.retries == 0
    assert Alert.from_json(receiver.received[0][1]) == sample_alert(2)
