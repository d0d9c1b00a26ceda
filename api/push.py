"""In-process push hub: per-unit and operator feeds for the SSE and WebSocket streams.

The engine publishes from any thread (dispatcher, tick, request threads). Why it is shaped this way
(1,000 unit streams must get an event within 100 ms on a small machine):

- an event is JSON-encoded once, in the publishing thread, into a `Frame` that every stream of
  every transport (SSE bytes, WebSocket text) sends as is;
- publishing appends to an outbox and wakes the event loop at most once per loop turn
  (`call_soon_threadsafe` per event costs a self-pipe write and a loop wake-up each);
- a subscription is a plain deque plus one waiter future: delivery never awaits, and a stream
  takes everything queued in one go and writes it with one `send`;
- the idle keepalive is one timer per waiting stream, not a `wait_for` task per event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

QUEUE_MAX = 1000  # a stuck client is cut off rather than growing memory; it resyncs on reconnect
NODE_CACHE_MAX = 50_000  # incidents whose org node the hub remembers (see PushHub._incident_node)


class Frame:
    """One event, encoded once for every subscriber and transport."""

    __slots__ = ("event", "json", "sse")

    def __init__(self, event: dict[str, Any]):
        self.event = event
        self.json = json.dumps(event, separators=(",", ":"))
        eid = (event.get("event") or {}).get("id")
        head = f"id: {eid}\n" if eid is not None else ""
        self.sse = f"{head}event: {event['type']}\ndata: {self.json}\n\n".encode()


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Subscription:
    """One stream's feed. Filled on the event loop by the hub; read by exactly one stream."""

    def __init__(self, hub: "PushHub", key: str, nodes: set[str] | None = None):
        self.hub, self.key = hub, key
        self.nodes = nodes  # org scope of an operator feed (None: everything); see PushHub._visible
        self.pending: deque[Frame] = deque()
        self.closed = False  # cut off by the hub (not reading) or the client went away
        self.overflowed = False
        self._waiter: asyncio.Future[None] | None = None

    def put(self, frame: Frame) -> None:
        """Event-loop thread only."""
        if self.closed:
            return
        if len(self.pending) >= QUEUE_MAX:
            self.overflowed = True
            log.warning("push: %s is not reading; dropping it (it resyncs on reconnect)", self.key)
            self.pending.clear()
            self.abort()
            return
        self.pending.append(frame)
        if self._waiter is not None:
            _wake(self._waiter)

    def abort(self) -> None:
        """End the stream (event-loop thread): the reader's `next_batch` returns None."""
        self.closed = True
        if self._waiter is not None:
            _wake(self._waiter)

    async def next_batch(self, timeout: float) -> list[Frame] | None:
        """Everything queued now; [] when `timeout` passed with nothing (send a keepalive); None: end."""
        if not self.pending and not self.closed:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self.closed:
            return None
        out = list(self.pending)
        self.pending.clear()
        return out

    def close(self) -> None:
        self.closed = True
        self.hub._remove(self)


class PushHub:
    OPERATORS = "__operators__"

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()
        self._outbox: list[tuple[tuple[str, ...], Frame]] = []
        self._scheduled = False
        # incident id → org node, learnt from events that carry it, for events that do not
        # (console routes publish acks and field reports with only the incident id).
        self._incident_node: dict[int, str | None] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def subscribe_unit(self, unit_id: str) -> Subscription:
        return self._add(Subscription(self, f"unit:{unit_id}"))

    def subscribe_operators(self, nodes: set[str] | None = None) -> Subscription:
        """`nodes`: the org nodes whose incidents this operator sees (api.org.Org.visible); None = all."""
        return self._add(Subscription(self, self.OPERATORS, nodes))

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
        keys: tuple[str, ...] = (self.OPERATORS,)
        order = event.get("order")
        if event.get("type") == "order" and order:
            keys = (self.OPERATORS, f"unit:{order['responder_id']}")
        with self._lock:
            self._learn_node(event)
            if self.loop is None or not any(self._subs.get(k) for k in keys):
                return
        frame = Frame(event)  # encoded here, in the publisher's thread, off the event loop
        with self._lock:
            self._outbox.append((keys, frame))
            wake = not self._scheduled
            self._scheduled = True
        if wake:
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # loop closed during shutdown
                pass

    def _learn_node(self, event: dict[str, Any]) -> None:
        iid = event.get("incident_id")
        if iid is None:
            return
        inc = event.get("incident") or {}
        if "node" in event or "node" in inc:
            self._incident_node[iid] = event.get("node", inc.get("node"))
            if len(self._incident_node) > NODE_CACHE_MAX:  # oldest incidents first (insertion order)
                for old in list(self._incident_node)[: NODE_CACHE_MAX // 2]:
                    del self._incident_node[old]

    def _node_of(self, event: dict[str, Any]) -> tuple[bool, str | None]:
        """(scoped, node): events without an incident are not scoped to a node."""
        iid = event.get("incident_id")
        if iid is None:
            return False, None
        if "node" in event:
            return True, event["node"]
        inc = event.get("incident")
        if inc and "node" in inc:
            return True, inc["node"]
        return True, self._incident_node.get(iid, "?unknown")  # unknown: only unscoped operators see it

    def _drain(self) -> None:
        """On the event loop: hand every frame published since the last turn to its subscribers."""
        with self._lock:
            batch, self._outbox, self._scheduled = self._outbox, [], False
            subs = {k: list(self._subs.get(k, ())) for k in {k for keys, _ in batch for k in keys}}
        for keys, frame in batch:
            scoped, node = None, None
            for key in keys:
                for sub in subs.get(key, ()):
                    if sub.nodes is not None:
                        if scoped is None:
                            scoped, node = self._node_of(frame.event)
                        if scoped and node not in sub.nodes:
                            continue
                    sub.put(frame)


def fanout(*channels: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """One push callable for the engine over several channels; a failing channel never starves the others."""

    def push(event: dict[str, Any]) -> None:
        for ch in channels:
            try:
                ch(event)
            except Exception:
                log.exception("push channel %r failed for %s", ch, event.get("type"))

    return push
