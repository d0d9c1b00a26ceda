"""In-process push hub: per-unit and operator feeds as asyncio queues.

The engine publishes from any thread (dispatcher, tick, request threads); delivery goes through
`loop.call_soon_threadsafe` onto the server's event loop where the SSE generators read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

QUEUE_MAX = 1000  # a stuck client is cut off rather than growing memory; it resyncs on reconnect


class Subscription:
    def __init__(self, hub: "PushHub", key: str):
        self.hub, self.key = hub, key
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_MAX)
        self.overflowed = False

    def close(self) -> None:
        self.hub._remove(self)


class PushHub:
    OPERATORS = "__operators__"

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def subscribe_unit(self, unit_id: str) -> Subscription:
        return self._add(Subscription(self, f"unit:{unit_id}"))

    def subscribe_operators(self) -> Subscription:
        return self._add(Subscription(self, self.OPERATORS))

    def _add(self, sub: Subscription) -> Subscription:
        with self._lock:
            self._subs.setdefault(sub.key, set()).add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.get(sub.key, set()).discard(sub)

    def subscriber_count(self, unit_id: str | None = None) -> int:
        key = f"unit:{unit_id}" if unit_id else self.OPERATORS
        with self._lock:
            return len(self._subs.get(key, ()))

    def publish(self, event: dict[str, Any]) -> None:
        """Thread-safe; order events go to their unit and to operators, the rest to operators."""
        keys = [self.OPERATORS]
        order = event.get("order")
        if event.get("type") == "order" and order:
            keys.append(f"unit:{order['responder_id']}")
        with self._lock:
            targets = [s for k in keys for s in self._subs.get(k, ())]
        if not targets or self.loop is None:
            return
        try:
            self.loop.call_soon_threadsafe(self._deliver, targets, event)
        except RuntimeError:  # loop closed during shutdown
            pass

    @staticmethod
    def _deliver(targets: list[Subscription], event: dict[str, Any]) -> None:
        for sub in targets:
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.overflowed = True
                log.warning("push: %s is not reading; dropping it (it resyncs on reconnect)", sub.key)
                with_none = sub.queue
                while not with_none.empty():
                    with_none.get_nowait()
                with_none.put_nowait(None)  # None tells the stream to end


def sse(event: str, data: Any, event_id: str | int | None = None) -> str:
    """One server-sent event frame."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def fanout(*channels: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """One push callable for the engine over several channels; a failing channel never starves the others."""

    def push(event: dict[str, Any]) -> None:
        for ch in channels:
            try:
                ch(event)
            except Exception:
                log.exception("push channel %r failed for %s", ch, event.get("type"))

    return push
