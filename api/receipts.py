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

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.dispatch.views import event_view, order_view
from api.store.models import DeliveryRow, IncidentRow, OrderEventRow, OrderRow

REPLAY_MAX = 500  # a unit offline for longer than this many of its order events gets its open orders

log = logging.getLogger(__name__)


class Receipts:
    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], float] = time.time, batch: int = 500):
        self.sessions, self.clock, self.batch = sessions, clock, batch
        self._q: queue.Queue[dict[str, Any] | Callable[[], None] | None] = queue.Queue()
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

    def defer(self, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(*args)` on the receipts thread, after the receipts recorded before it are written.
        Streams use it for the store write a delivery causes (pending → notified), so no stream
        ever waits on the store between two events."""
        self._idle.clear()
        self._q.put(lambda: fn(*args))

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
            rows: list[dict[str, Any]] = []
            calls: list[Callable[[], None]] = []
            while True:
                (calls.append if callable(item) else rows.append)(item)  # type: ignore[operator]
                if len(rows) + len(calls) >= self.batch:
                    break
                try:
                    item = self._q.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._finish(rows, calls)
                    return
            self._finish(rows, calls)
            if self._q.empty():
                self._idle.set()

    def _finish(self, rows: list[dict[str, Any]], calls: list[Callable[[], None]]) -> None:
        if rows:
            self._write(rows)
        for call in calls:
            try:
                call()
            except Exception:  # e.g. the order moved on meanwhile; the stream has delivered anyway
                log.exception("deferred delivery work failed")

    def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self.sessions() as s, s.begin():
                s.add_all(DeliveryRow(**r) for r in rows)
        except Exception:  # a receipt must never take push down; the order trail is in order_events
            log.exception("delivery receipts: %d not written", len(rows))


def missed_events(sessions: sessionmaker[Session], unit_id: str, *, after_id: int | None = None,
                  since: float | None = None) -> list[dict[str, Any]] | None:
    """The order events a reconnecting unit missed: its orders' state changes after event
    `after_id` (the SSE `Last-Event-ID`) or after time `since`, oldest first, as pushed, with
    `replay: true` and each order as it is now. None when more than REPLAY_MAX were missed: the
    caller then sends the open orders instead."""
    q = (select(OrderEventRow, OrderRow, IncidentRow)
         .join(OrderRow, OrderRow.id == OrderEventRow.order_id)
         .join(IncidentRow, IncidentRow.id == OrderEventRow.incident_id)
         .where(OrderRow.responder_id == unit_id, OrderEventRow.kind == "state")
         .order_by(OrderEventRow.id).limit(REPLAY_MAX + 1))
    if after_id is not None:
        q = q.where(OrderEventRow.id > after_id)
    if since is not None:
        q = q.where(OrderEventRow.at > since)
    with sessions() as s:
        rows = s.execute(q).all()
        if len(rows) > REPLAY_MAX:
            return None
        return [{"type": "order", "replay": True, "incident_id": e.incident_id, "event": event_view(e),
                 "order": order_view(o, i), **({"drill": True} if i.drill else {})} for e, o, i in rows]
