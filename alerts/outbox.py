"""The local outbox: alerts are stored on disk before the bus, so a broker outage delays them
but never loses them (DESIGN.md, delivery guarantees).

`Outbox` is a SQLite queue (WAL, synchronous=FULL: a `put` that returned survives a power cut).
`OutboxRelay` is a thread that moves pending rows to the bus: send, flush, then mark sent. A crash
between the flush and the mark re-sends those rows on restart; that is at-least-once delivery,
and consumers dedupe by `alert_id`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path

from alerts.bus import Bus, BusError, Producer
from alerts.model import ALERTS_TOPIC, Alert

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(topic, seq) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_sent ON outbox(sent_at) WHERE sent_at IS NOT NULL;
"""

PendingRow = tuple[str, str, "bytes | None", bytes]


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the producing thread and the relay, serialised by a lock.
        self._conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._put_event = threading.Event()

    def put(self, alert: Alert, topic: str = ALERTS_TOPIC) -> bool:
        """Store an alert for delivery; False when this message is already stored (a replay).

        The `alert_id` column holds `alert.delivery_id`: the alert_id for a lifecycle start (as
        before lifecycles existed), so an update or end of the same alert is a new row.
        """
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO outbox(alert_id, topic, key, value, created_at) VALUES (?, ?, ?, ?, ?)",
                (alert.delivery_id, topic, alert.key, alert.to_json(), time.time()),
            )
            added = cur.rowcount == 1
        if added:
            self._put_event.set()
        return added

    def put_many(self, alerts: list[Alert], topic: str = ALERTS_TOPIC) -> int:
        """`put` for a burst in one transaction (one disk sync, not one per alert); returns how
        many were new."""
        now = time.time()
        rows = [(a.delivery_id, topic, a.key, a.to_json(), now) for a in alerts]
        with self._lock:
            before = self._conn.total_changes
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO outbox(alert_id, topic, key, value, created_at) VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            added = self._conn.total_changes - before
        if added:
            self._put_event.set()
        return added

    def pending(self, limit: int = 100, topic: str | None = None) -> list[PendingRow]:
        """Oldest first: (alert_id, topic, key, value)."""
        where, args = ("sent_at IS NULL", ()) if topic is None else ("sent_at IS NULL AND topic = ?", (topic,))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT alert_id, topic, key, value FROM outbox WHERE {where} ORDER BY seq LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [(a, t, None if k is None else bytes(k), bytes(v)) for a, t, k, v in rows]

    def pending_span(self, limit: int, topic: str, after_seq: int = 0) -> tuple[list[PendingRow], int, int]:
        """`pending` for one topic, with the first and last `seq` of the rows (for `mark_span`);
        only rows after `after_seq` (the relay skips what it has in flight)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, alert_id, topic, key, value FROM outbox WHERE sent_at IS NULL AND topic = ? "
                "AND seq > ? ORDER BY seq LIMIT ?",
                (topic, after_seq, limit),
            ).fetchall()
        out = [(a, t, None if k is None else bytes(k), bytes(v)) for _, a, t, k, v in rows]
        return out, (rows[0][0] if rows else 0), (rows[-1][0] if rows else -1)

    def mark_span(self, topic: str, first_seq: int, last_seq: int) -> int:
        """Mark sent the pending rows of `topic` with seq in [first, last], as `pending_span`
        returned them: one range update instead of one lookup per id (the relay's hot path).

        Exactly those rows: seq only grows, so a row put after `pending_span` read lies beyond
        `last_seq`, and every pending row of the topic inside the range was in the batch.
        """
        with self._lock:
            cur = self._conn.execute(
                "UPDATE outbox SET sent_at = ? WHERE topic = ? AND seq BETWEEN ? AND ? AND sent_at IS NULL",
                (time.time(), topic, first_seq, last_seq),
            )
            return cur.rowcount

    def mark_sent(self, ids: list[str]) -> None:
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "UPDATE outbox SET sent_at = ? WHERE alert_id = ? AND sent_at IS NULL",
                    [(now, i) for i in ids],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def pending_count(self, topic: str | None = None) -> int:
        where, args = ("sent_at IS NULL", ()) if topic is None else ("sent_at IS NULL AND topic = ?", (topic,))
        with self._lock:
            return self._conn.execute(f"SELECT COUNT(*) FROM outbox WHERE {where}", args).fetchone()[0]

    def prune(self, older_than_s: float) -> int:
        """Delete rows sent more than `older_than_s` ago; returns how many.

        A pruned alert_id no longer dedupes a later `put`; the dispatcher still does.
        """
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", (time.time() - older_than_s,)
            )
            return cur.rowcount

    def wait(self, timeout: float) -> bool:
        """Block until a `put` (or `wake()`) or the timeout; True when woken."""
        woken = self._put_event.wait(timeout)
        self._put_event.clear()
        return woken

    def wake(self) -> None:
        self._put_event.set()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class OutboxRelay:
    """Background delivery of an outbox's rows for one topic.

    Counters (read them any time): `sent` records acknowledged by the bus, `failed` records whose
    delivery attempt failed (they stay pending and are retried), `outages` separate periods of
    failure. One warning is logged when an outage starts and one line when delivery resumes.
    """

    def __init__(
        self,
        outbox: Outbox,
        bus: Bus,
        topic: str = ALERTS_TOPIC,
        *,
        batch_size: int = 1000,
        window: int = 2,
        flush_timeout: float = 10.0,
        idle_wait: float = 0.5,
        max_backoff: float = 5.0,
    ) -> None:
        self.outbox = outbox
        self.bus = bus
        self.topic = topic
        self.batch_size = batch_size
        self.window = max(1, window)  # batches in flight at once
        self.flush_timeout = flush_timeout
        # A put from another process cannot wake us, so an idle relay still looks this often.
        self.idle_wait = idle_wait
        self.max_backoff = max_backoff
        self.sent = 0
        self.failed = 0
        self.outages = 0
        self._outage_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "OutboxRelay":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"outbox-relay[{self.topic}]", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self.outbox.wake()
        if self._thread is not None:
            self._thread.join(self.flush_timeout + 5 if timeout is None else timeout)

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is pending for this topic; False if the timeout came first."""
        deadline = time.monotonic() + timeout
        while self.outbox.pending_count(self.topic):
            if time.monotonic() >= deadline:
                return False
            self.outbox.wake()
            time.sleep(0.02)
        return True

    @property
    def in_outage(self) -> bool:
        return self._outage_since is not None

    def _run(self) -> None:
        producer: Producer | None = None
        backoff = 0.0
        topic_ready = False
        # Batches sent but not yet acknowledged: (first seq, last seq, producer checkpoint, rows).
        # The next batch goes out while the previous one waits for its acks (`window` deep), so
        # the broker's round trip is not paid once per batch; rows are marked sent strictly in
        # order, only after their acks. A failure drops the window: those rows are still pending
        # and go again (at-least-once; consumers dedupe by delivery id).
        inflight: deque[tuple[int, int, int, int]] = deque()
        try:
            while not self._stop.is_set():
                after = inflight[-1][1] if inflight else 0
                room = len(inflight) < self.window
                rows, first, last = self.outbox.pending_span(self.batch_size, self.topic, after) if room else ([], 0, -1)
                if not rows and not inflight:
                    self.outbox.wait(self.idle_wait)
                    continue
                try:
                    if not topic_ready:
                        self._ensure_topic()
                    if producer is None:
                        producer = self.bus.producer()
                    if rows:
                        inflight.append((first, last, self._send(producer, rows), len(rows)))
                        topic_ready = True
                    if inflight and (not rows or not room or len(inflight) >= self.window
                                     or not hasattr(producer, "checkpoint")):
                        self._confirm(producer, *inflight.popleft())
                except Exception as exc:  # BusError or anything else: keep the rows, retry later
                    topic_ready = False
                    unsent = len(rows) if rows and not (inflight and inflight[-1][0] == first) else 0
                    self.failed += unsent + sum(n for *_, n in inflight)
                    inflight.clear()
                    self._note_failure(exc)
                    backoff = min(self.max_backoff, backoff * 2 if backoff else 0.1)
                    self._stop.wait(backoff)
                    continue
                backoff = 0.0
                self._note_success()
        finally:
            if producer is not None:
                try:
                    producer.close()
                except Exception:  # closing after an outage may fail; the rows are still pending
                    log.debug("closing the relay's producer failed", exc_info=True)

    def _ensure_topic(self) -> None:
        """Brokers with auto-create off (Apache Kafka in production) refuse sends to a missing
        topic, and a broker that lost its storage lost the topic too: (re)create it at start and
        after every failure. A refusal (ACLs) or an unreachable broker is not fatal here: the
        send that follows tells whether the topic is usable."""
        try:
            self.bus.ensure_topics([self.topic])
        except BusError as exc:
            log.debug("outbox relay: ensuring topic %s failed: %s", self.topic, exc)

    @staticmethod
    def _send(producer: Producer, rows: list[PendingRow]) -> int:
        for _, topic, key, value in rows:
            producer.send(topic, value, key)
        checkpoint = getattr(producer, "checkpoint", None)
        return checkpoint() if checkpoint is not None else 0

    def _confirm(self, producer: Producer, first: int, last: int, checkpoint: int, n: int) -> None:
        wait = getattr(producer, "wait", None)
        if wait is not None:
            wait(checkpoint, self.flush_timeout)  # this batch's acks; later batches keep flying
        else:
            producer.flush(self.flush_timeout)
        # Only now are the rows on the bus; a crash before this line re-sends them (at-least-once).
        self.outbox.mark_span(self.topic, first, last)
        self.sent += n

    def _note_failure(self, exc: Exception) -> None:
        if self._outage_since is not None:
            log.debug("outbox relay: still failing: %s", exc)
            return
        self._outage_since = time.monotonic()
        self.outages += 1
        if isinstance(exc, BusError):
            log.warning("outbox relay: bus unavailable, alerts stay queued and are retried: %s", exc)
        else:
            log.exception("outbox relay: unexpected error, alerts stay queued and are retried")

    def _note_success(self) -> None:
        if self._outage_since is None:
            return
        lasted = time.monotonic() - self._outage_since
        self._outage_since = None
        log.warning("outbox relay: delivering again after %.1f s; %d pending", lasted, self.outbox.pending_count(self.topic))
