"""Throughput of the alert path: bus produce/consume and outbox relay, per bus kind.

    python bench/bus_throughput.py [--count 5000] [--size 1000] [--kafka kafka://host:port]

Without `--kafka` the Kafka numbers come from a Tansu broker started on loopback (the test
broker, not Apache Kafka: its numbers say little about production). Alerts are ~1 KB of JSON.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from alerts.bus import Bus, open_bus
from alerts.model import Alert, AlertObject, RuleRef, Source
from alerts.outbox import Outbox, OutboxRelay


def _alert(n: int, size: int) -> Alert:
    at = datetime.now(timezone.utc)
    return Alert(
        alert_id=str(uuid.uuid4()), site="bench", source=Source(kind="camera", id=f"cam-{n % 16}"),
        rule=RuleRef(id="r", kind="tripwire", severity="high"), started_at=at, observed_at=at,
        emitted_at=at, objects=[AlertObject(track_id=n, label="person", confidence=0.9, bbox=(0, 0, 1, 1))],
        evidence={"pad": "x" * max(0, size - 450)},
    )


def bench_bus(bus: Bus, count: int, size: int) -> dict[str, float]:
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    bus.ensure_topics([topic])
    values = [(_alert(i, size).to_json(), f"cam-{i % 16}".encode()) for i in range(count)]
    producer = bus.producer()
    t0 = time.perf_counter()
    for value, key in values:
        producer.send(topic, value, key)
    producer.flush(60)
    produce_s = time.perf_counter() - t0
    producer.close()
    consumer = bus.consumer([topic], f"bench-{uuid.uuid4().hex[:8]}")
    got = 0
    first = None
    deadline = time.monotonic() + 120
    while got < count and time.monotonic() < deadline:
        records = consumer.poll(timeout=0.5)
        if records and first is None:
            first = time.perf_counter()  # after the group join, which is not throughput
        got += len(records)
    consume_s = time.perf_counter() - (first or time.perf_counter())
    consumer.commit()
    consumer.close()
    return {"produce_msg_s": count / produce_s, "consume_msg_s": got / max(consume_s, 1e-9), "consumed": got}


def bench_relay(bus: Bus, count: int, size: int, folder: Path) -> dict[str, float]:
    outbox = Outbox(folder / f"outbox-{uuid.uuid4().hex[:6]}.db")
    topic = f"bench.relay.{uuid.uuid4().hex[:8]}"
    bus.ensure_topics([topic])
    t0 = time.perf_counter()
    for i in range(count):
        outbox.put(_alert(i, size), topic)
    put_s = time.perf_counter() - t0
    relay = OutboxRelay(outbox, bus, topic).start()
    t0 = time.perf_counter()
    drained = relay.drain(timeout=300)
    relay_s = time.perf_counter() - t0
    relay.stop()
    return {"outbox_put_msg_s": count / put_s, "relay_msg_s": count / relay_s, "drained": drained}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--kafka", help="kafka:// URL; default: a Tansu broker on loopback")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs: dict[str, Bus] = {"embedded": open_bus(f"embedded://{folder / 'bus.db'}")}
        broker = None
        if args.kafka:
            runs["kafka"] = open_bus(args.kafka)
        else:
            # The tests' helper; the repository root is not on sys.path when run as a script.
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.support.tansu import TansuBroker

            broker = TansuBroker().start()
            runs["kafka (tansu)"] = open_bus(broker.url)
        try:
            for name, bus in runs.items():
                result = {**bench_bus(bus, args.count, args.size), **bench_relay(bus, args.count, args.size, folder)}
                print(name, " ".join(f"{k}={v:.0f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))
        finally:
            if broker is not None:
                broker.stop()


if __name__ == "__main__":
    main()
