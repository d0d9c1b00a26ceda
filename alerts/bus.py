"""The `Bus` protocol: a partitioned, durable log with consumer groups (Kafka semantics).

Two implementations: `alerts.embedded_bus` (a SQLite log on one machine, shared by processes)
and `alerts.kafka_bus` (kafka-python against Apache Kafka or any Kafka-protocol broker).
`open_bus(url)` picks one lazily from the URL scheme so nothing imports kafka unless asked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


class BusError(RuntimeError):
    """The bus refused or could not be reached; the message says which and why."""


class Producer(Protocol):
    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        """Queue one record; delivery errors surface from `flush()`."""

    def flush(self, timeout: float | None = None) -> None:
        """Block until every queued record is acknowledged; raise BusError otherwise."""

    def close(self) -> None: ...


class Consumer(Protocol):
    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[Record]:
        """Records after the group's committed offset (or from the start for a new group)."""

    def commit(self) -> None:
        """Commit the offsets of everything returned by `poll` so far (after processing it)."""

    def close(self) -> None: ...


class Bus(Protocol):
    url: str

    def producer(self) -> Producer: ...

    def consumer(self, topics: list[str], group_id: str) -> Consumer: ...

    def ensure_topics(self, topics: list[str], partitions: int = 1) -> None: ...


_SCHEMES = {
    "embedded": "alerts.embedded_bus:EmbeddedBus",
    "kafka": "alerts.kafka_bus:KafkaBus",
}


def open_bus(url: str) -> Bus:
    """`embedded:///path/to/bus.db` or `kafka://host:port[,host:port]`."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    target = _SCHEMES.get(scheme)
    if target is None:
        raise BusError(f"bus url {url!r}: scheme must be one of {', '.join(s + '://' for s in _SCHEMES)}")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)(url)
