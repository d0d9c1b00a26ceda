"""Background publisher for dispatch events: the store is the record, the topic a feed.

Engine transactions (unit acknowledges, deadline ticks) must never wait on a slow or absent
broker, so `send` only enqueues; a thread sends and flushes in batches, keeps a failed batch and
retries it with backoff. Past `max_queued` the oldest events are dropped with a warning (they
remain in the store's order_events table).
"""

from __future__ import annotations

import collections
import logging
import threading

from alerts.bus import BusError, Producer

log = logging.getLogger(__name__)


class BackgroundPublisher:
    """Implements the `Producer` protocol on top of another producer, without blocking."""

    def __init__(self, producer: Producer, max_queued: int = 10_000, max_backoff: float = 10.0):
        self._inner = producer
        # (sequence number, topic, value, key): the number tells what a finished batch covered.
        self._queue: collections.deque[tuple[int, str, bytes, bytes | None]] = collections.deque()
        self._seq = 0
        self._max, self._max_backoff = max_queued, max_backoff
        self._cv = threading.Condition()
        self._closing = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="lookout-dispatch-events", daemon=True)
        self._thread.start()

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        with self._cv:
            if len(self._queue) >= self._max:
                self._queue.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("dispatch events: %d dropped while the bus is unavailable", self.dropped)
            self._seq += 1
            self._queue.append((self._seq, topic, value, key))
            self._cv.notify()

    def flush(self, timeout: float | None = None) -> None:
        """Non-blocking by design: delivery is the background thread's job."""

    def pending(self) -> int:
        with self._cv:
            return len(self._queue)

    def close(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify()
        self._thread.join(timeout)
        try:
            self._inner.close()
        except BusError as exc:
            log.warning("dispatch events: closing the producer failed: %s", exc)

    def _run(self) -> None:
        backoff, failing = 0.2, False
        while True:
            with self._cv:
                while not self._queue and not self._closing:
                    self._cv.wait()
                if not self._queue:
                    return  # closing and drained
                batch = list(self._queue)
            try:
                for _, topic, value, key in batch:
                    self._inner.send(topic, value, key)
                self._inner.flush(timeout=10)
            except BusError as exc:
                if not failing:
                    log.warning("dispatch events: bus unavailable, will retry: %s", exc)
                failing = True
                with self._cv:
                    if self._closing:
                        return  # give up on shutdown; the store keeps the audit trail
                    self._cv.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue  # the batch stays queued: at-least-once on the feed too
            if failing:
                log.info("dispatch events: bus reachable again")
            backoff, failing = 0.2, False
            with self._cv:
                # Drop exactly what was sent: send() may have appended, or evicted from the front, meanwhile.
                last = batch[-1][0]
                while self._queue and self._queue[0][0] <= last:
                    self._queue.popleft()
