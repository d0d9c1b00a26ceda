"""The consume → deliver → commit loop that every bridge shares.

A batch is committed only after the sink acknowledged every alert in it. A failed delivery
leaves the batch uncommitted: the loop drops its consumer, waits (backoff) and reads the batch
again from the last commit, so the far side may see an alert twice but never misses one.
Records that are not Alert v1 are skipped with a warning: the dispatcher already sends them to
the dead-letter topic, and a bridge must not stop on them.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from pydantic import ValidationError

from alerts.bus import Bus, BusError, Consumer
from alerts.model import ALERTS_TOPIC, Alert

log = logging.getLogger(__name__)


class BridgeError(RuntimeError):
    """The far side did not acknowledge; the batch is delivered again later."""


class Sink(Protocol):
    def deliver(self, alerts: list[Alert]) -> None:
        """Return once every alert is acknowledged; raise BridgeError otherwise."""

    def close(self) -> None: ...


class BridgeLoop:
    """Counters for health and tests: `delivered` (alerts acknowledged and committed), `skipped`
    (records that were not alerts), `failures` (failed batch attempts)."""

    def __init__(self, bus: Bus, sink: Sink, group_id: str, *, topic: str = ALERTS_TOPIC,
                 poll_timeout: float = 0.5, max_records: int = 200, max_backoff: float = 10.0) -> None:
        self.bus, self.sink, self.group_id, self.topic = bus, sink, group_id, topic
        self.poll_timeout, self.max_records, self.max_backoff = poll_timeout, max_records, max_backoff
        self.delivered = self.skipped = self.failures = 0
        self.stopping = threading.Event()
        self._consumer: Consumer | None = None

    def run_once(self) -> int:
        """One poll, deliver, commit; returns how many records it committed."""
        if self._consumer is None:
            self._consumer = self.bus.consumer([self.topic], self.group_id)
        records = self._consumer.poll(timeout=self.poll_timeout, max_records=self.max_records)
        if not records:
            return 0
        alerts: list[Alert] = []
        for rec in records:
            try:
                alerts.append(Alert.from_json(rec.value))
            except (ValidationError, ValueError):
                self.skipped += 1
                log.warning("bridge %s: skipping a record that is not Alert v1 at %s[%d]@%d",
                            self.group_id, rec.topic, rec.partition, rec.offset)
        if alerts:
            self.sink.deliver(alerts)
        self._consumer.commit()  # only after the far side acknowledged every alert
        self.delivered += len(alerts)
        return len(records)

    def run(self) -> None:
        backoff, failing = 0.2, False
        while not self.stopping.is_set():
            try:
                self.run_once()
                if failing:
                    log.warning("bridge %s: delivering again", self.group_id)
                backoff, failing = 0.2, False
            except (BridgeError, BusError) as exc:
                self.failures += 1
                if not failing:  # one line per outage, not one per retry
                    log.warning("bridge %s: %s; the batch is retried", self.group_id, exc)
                failing = True
                self._drop_consumer()  # re-read from the last commit
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        self._drop_consumer()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"bridge[{self.group_id}]", daemon=True)
        thread.start()
        return thread

    def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close()
            except Exception:  # a broken client must not hide the delivery error
                log.debug("closing the bridge consumer failed", exc_info=True)
