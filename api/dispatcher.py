"""The dispatcher thread: consume the alert topic in a consumer group and hand alerts to the engine.

Offsets are committed only after the database transaction, so a crash replays records and the
engine's upsert by alert_id makes the replay a no-op (at-least-once, DESIGN.md).
"""

from __future__ import annotations

import logging
import threading

from pydantic import ValidationError

from alerts.bus import Bus, BusError, Consumer, Producer
from alerts.model import ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC, Alert
from api.dispatch.engine import DispatchEngine

log = logging.getLogger(__name__)


class Dispatcher(threading.Thread):
    def __init__(self, bus: Bus, engine: DispatchEngine, group_id: str = "lookout-dispatcher",
                 poll_timeout: float = 0.5, max_backoff: float = 10.0):
        super().__init__(name="lookout-dispatcher", daemon=True)
        self.bus, self.engine, self.group_id = bus, engine, group_id
        self.poll_timeout, self.max_backoff = poll_timeout, max_backoff
        self._stopping = threading.Event()
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self.handled = 0  # records processed and committed, for health and tests

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.join(timeout)

    def run(self) -> None:
        backoff, failing = 0.2, False
        while not self._stopping.is_set():
            try:
                if self._consumer is None:
                    # Brokers with auto-create off need every topic we write to exist first.
                    self.bus.ensure_topics([ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC])
                    self._consumer = self.bus.consumer([ALERTS_TOPIC], self.group_id)
                self.poll_once()
                if failing:
                    log.info("dispatcher: bus reachable again")
                backoff, failing = 0.2, False
            except BusError as exc:
                if not failing:  # log once per outage, not once per retry
                    log.warning("dispatcher: bus error, retrying with backoff: %s", exc)
                failing = True
                self._reset()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            except Exception:
                # e.g. the database is down: records stay uncommitted and are polled again.
                log.exception("dispatcher: unexpected error; retrying")
                self._reset()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        self._reset()

    def _reset(self) -> None:
        for part in (self._consumer, self._producer):
            if part is not None:
                try:
                    part.close()
                except Exception:  # closing a broken client must not mask the original error
                    log.debug("close failed", exc_info=True)
        self._consumer = self._producer = None

    def poll_once(self) -> int:
        """One poll: handle each record, then commit. Returns the number of records seen."""
        assert self._consumer is not None
        records = self._consumer.poll(timeout=self.poll_timeout)
        if not records:
            return 0
        dead = 0
        for rec in records:
            try:
                alert = Alert.from_json(rec.value)
            except (ValidationError, ValueError) as exc:
                reason = _reason(exc)
                log.warning("dispatcher: malformed record %s[%d]@%d: %s", rec.topic, rec.partition, rec.offset, reason)
                self._dead_letter(rec.value, rec.key, f"{rec.topic}[{rec.partition}]@{rec.offset}: {reason}")
                dead += 1
                continue
            self.engine.handle_alert(alert)  # its own transaction, committed on return
        if dead:
            assert self._producer is not None
            self._producer.flush(timeout=10)  # the dead letters must be safe before we skip them
        self._consumer.commit()
        self.handled += len(records)
        return len(records)

    def _dead_letter(self, value: bytes, key: bytes | None, reason: str) -> None:
        import json

        if self._producer is None:
            self._producer = self.bus.producer()
        envelope = {"reason": reason, "value": value.decode("utf-8", errors="replace")}
        self._producer.send(DEAD_LETTER_TOPIC, json.dumps(envelope).encode(), key=key)


def _reason(exc: Exception) -> str:
    """A one-line reason an engineer can act on: which fields, and what is wrong with them."""
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc']) or '(record)'}: {e['msg']}" for e in exc.errors()[:3]]
        more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        return "not a valid Alert v1: " + "; ".join(parts) + more
    return f"{type(exc).__name__}: {exc}"


def run_ticks(engine: DispatchEngine, stop: threading.Event, interval: float = 1.0) -> None:
    """The deadline loop; a failed tick is logged and retried next interval."""
    while not stop.wait(interval):
        try:
            engine.tick()
        except Exception:
            log.exception("tick failed")


def start_tick_thread(engine: DispatchEngine, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    t = threading.Thread(target=run_ticks, args=(engine, stop, interval), name="lookout-tick", daemon=True)
    t.start()
    return t, stop


