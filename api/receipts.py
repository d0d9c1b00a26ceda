"""Delivery receipts: push channels report what they handed over, a thread writes them in batches.

Channels call `record` from their own threads (the event loop, paho's network thread, the webhook
sender); a write per receipt would put the store on every push's path, so they are queued and
inserted together. Losing queued receipts in a crash loses no order: the order and its events
are already committed, and a reconnecting unit is sent its open orders again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.store.models import DeliveryRow

log = logging.getLogger(__name__)


class Receipts:
    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], float] = time.time, batch: int = 500):
        self.sessions, self.clock, self.batch = sessions, clock, batch
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="lookout-receipts", daemon=True)
        self._thread.start()

    def record(self, *, order_id: int, event_id: int | None, channel: str, target: str, status: str,
               detail: dict[str, Any] | None = None) -> None:
        self._idle.clear()
        self._q.put(dict(order_id=order_id, event_id=event_id, channel=channel, target=target, status=status,
                         at=self.clock(), detail=detail or {}))

    def record_event(self, ev: dict[str, Any], channel: str, target: str, status: str,
                     detail: dict[str, Any] | None = None) -> None:
        """A receipt for a pushed order event (others carry no order and are not receipted)."""
        order = ev.get("order")
        if order:
            self.record(order_id=order["id"], event_id=(ev.get("event") or {}).get("id"), channel=channel,
                        target=target, status=status, detail=detail)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything recorded so far is written (tests, shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(10)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            rows = [item]
            while len(rows) < self.batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._write(rows)
                    return
                rows.append(nxt)
            self._write(rows)
            if self._q.empty():
                self._idle.set()

    def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self.sessions() as s, s.begin():
                s.add_all(DeliveryRow(**r) for r in rows)
        except Exception:  # a receipt must never take push down; the order trail is in order_events
            log.exception("delivery receipts: %d not written", len(rows))
