"""A tiny in-memory Bus with Kafka semantics (one partition per topic, committed group offsets).

Used where a test must control the bus (injected BusErrors) and, until alerts/embedded_bus.py
exists, as the dispatcher's bus. It implements alerts.bus's protocol, it does not mock it.
"""

from __future__ import annotations

import threading
import time

from alerts.bus import BusError, Record


class FakeBus:
    def __init__(self, url: str = "fake://") -> None:
        self.url = url
        self.lock = threading.Lock()
        self.topics: dict[str, list[Record]] = {}
        self.committed: dict[tuple[str, str], int] = {}
        self.fail_polls = 0  # the next N polls raise BusError (a broker outage)
        self.fail_flushes = 0  # the next N producer flushes raise BusError and lose their batch

    def ensure_topics(self, topics: list[str], partitions: int = 1) -> None:
        with self.lock:
            for t in topics:
                self.topics.setdefault(t, [])

    def producer(self) -> "FakeProducer":
        return FakeProducer(self)

    def consumer(self, topics: list[str], group_id: str) -> "FakeConsumer":
        return FakeConsumer(self, topics, group_id)

    def append(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        with self.lock:
            log = self.topics.setdefault(topic, [])
            log.append(Record(topic, 0, len(log), key, value, int(time.time() * 1000)))


class FakeProducer:
    """Buffers until `flush`, like the embedded and Kafka producers; a failed flush loses the batch."""

    def __init__(self, bus: FakeBus) -> None:
        self.bus = bus
        self.buffer: list[tuple[str, bytes, bytes | None]] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        self.buffer.append((topic, value, key))

    def flush(self, timeout: float | None = None) -> None:
        batch, self.buffer = self.buffer, []
        with self.bus.lock:
            if self.bus.fail_flushes > 0:
                self.bus.fail_flushes -= 1
                raise BusError("fake broker refused the batch")
        for topic, value, key in batch:
            self.bus.append(topic, value, key)

    def close(self) -> None:
        pass


class FakeConsumer:
    def __init__(self, bus: FakeBus, topics: list[str], group_id: str) -> None:
        self.bus, self.topics, self.group = bus, topics, group_id
        with bus.lock:
            self.pos = {t: bus.committed.get((group_id, t), 0) for t in topics}

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[Record]:
        with self.bus.lock:
            if self.bus.fail_polls > 0:
                self.bus.fail_polls -= 1
                raise BusError("fake broker unreachable")
            out: list[Record] = []
            for t in self.topics:
                log = self.bus.topics.get(t, [])
                take = log[self.pos[t]:self.pos[t] + max_records - len(out)]
                self.pos[t] += len(take)
                out += take
        if not out:
            time.sleep(min(timeout, 0.02))
        return out

    def commit(self) -> None:
        with self.bus.lock:
            for t, p in self.pos.items():
                self.bus.committed[(self.group, t)] = p

    def close(self) -> None:
        pass
