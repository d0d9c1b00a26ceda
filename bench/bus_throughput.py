"""Throughput and latency of the alert path, with kafka-python's bare client as the reference.

    .venv/bin/python bench/bus_throughput.py [--count 20000] [--rate 50] [--seconds 10]
        [--repeat 3] [--chunk 100] [--relay-batch N] [--batch-bytes N] [--kafka URL] [--embedded]

Two pipelines run in the same process, one after the other, on the same broker:
- ours: Alert → Outbox (SQLite, fsync) → OutboxRelay → KafkaBus producer → broker →
  KafkaBus consumer (parses Alert v1, commits every poll, as the dispatcher does);
- reference: Alert JSON → bare `KafkaProducer` (acks=all, linger_ms=5, our settings) → broker →
  bare `KafkaConsumer` (auto-commit).
Burst: `--count` alerts as fast as the pipeline takes them (ours puts them in outbox bursts of
`--chunk` alerts with `put_many`, one fsynced transaction each); end-to-end alerts/s from the
first put/send to the last receipt. Rate: `--rate` alerts/s for `--seconds`, one `put` (one
fsync) per alert as the worker does; latency from the alert's `emitted_at` (set just before
put/send) to its receipt, p50 and p99. Without `--kafka` a Tansu broker is started on loopback (the test broker, not
Apache Kafka). `--embedded` also runs the burst through the embedded SQLite bus.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from alerts.bus import Bus, open_bus
from alerts.model import Alert, AlertObject, RuleRef, Source
from alerts.outbox import Outbox, OutboxRelay

Poll = Callable[[], list[bytes]]


def _alert(n: int, size: int) -> Alert:
    at = datetime.now(timezone.utc)
    return Alert(
        alert_id=str(uuid.uuid4()), site="bench", source=Source(kind="camera", id=f"cam-{n % 16}"),
        rule=RuleRef(id="r", kind="tripwire", severity="high"), started_at=at, observed_at=at,
        emitted_at=at, objects=[AlertObject(track_id=n, label="person", confidence=0.9, bbox=(0, 0, 1, 1))],
        evidence={"pad": "x" * max(0, size - 450)},
    )


class Receiver(threading.Thread):
    """Polls until `count` alerts arrived; records receipt latency from each alert's emitted_at."""

    def __init__(self, poll: Poll, parse: Callable[[bytes], float], timeout: float = 300) -> None:
        super().__init__(daemon=True)
        self.poll, self.parse, self.timeout = poll, parse, timeout
        self.latencies: list[float] = []
        self.measure = True  # False in the burst: count only, so the receiver is not the bottleneck
        self.target = 1
        self.last = 0.0
        self.done = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self.stop.is_set() and time.monotonic() < deadline:
            values = self.poll()
            now = time.time()
            for v in values:
                self.latencies.append(now - self.parse(v) if self.measure else 0.0)
            if values:
                self.last = time.perf_counter()
            if len(self.latencies) >= self.target:
                self.done.set()

    def expect(self, total: int, timeout: float = 300) -> bool:
        self.done.clear()
        self.target = total
        if len(self.latencies) >= total:
            return True
        return self.done.wait(timeout)


def _emitted(value: bytes) -> float:
    return datetime.fromisoformat(json.loads(value)["emitted_at"]).timestamp()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def _summary(name: str, count: int, burst_s: float, rate_lat: list[float],
             cpu: tuple[float, float] = (0.0, 0.0)) -> dict:
    return {"pipeline": name, "burst_msg_s": count / burst_s, "p50_ms": _pct(rate_lat, 0.5),
            "p99_ms": _pct(rate_lat, 0.99), "mean_ms": statistics.fmean(rate_lat) * 1000 if rate_lat else 0,
            # CPU seconds per 1000 alerts in the burst: this process (producer, relay, consumer
            # threads) and the broker. Waiting for a core does not count, so under a shared
            # machine's load this is steadier than alerts/s.
            "cpu_ms_per_1k": 1000 * cpu[0] / count * 1000, "broker_cpu_ms_per_1k": 1000 * cpu[1] / count * 1000}


BROKER_PID: int | None = None  # the Tansu we started, for its CPU time


def _broker_cpu() -> float:
    """utime + stime of the broker process in seconds (0 when it is not ours)."""
    if BROKER_PID is None:
        return 0.0
    try:
        fields = Path(f"/proc/{BROKER_PID}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


RELAY_BATCH = 1000  # --relay-batch (OutboxRelay's default)
CHUNK = 100  # --chunk: alerts per outbox transaction in the burst
PRODUCER_CFG = {"acks": "all", "linger_ms": 5}  # the reference gets our producer settings


def run_ours(bus: Bus, folder: Path, count: int, rate: float, seconds: float, size: int) -> dict:
    topic = f"bench.ours.{uuid.uuid4().hex[:8]}"
    bus.ensure_topics([topic])
    outbox = Outbox(folder / f"outbox-{uuid.uuid4().hex[:6]}.db")
    relay = OutboxRelay(outbox, bus, topic, batch_size=RELAY_BATCH).start()
    consumer = bus.consumer([topic], f"bench-{uuid.uuid4().hex[:8]}")

    def poll() -> list[bytes]:
        records = consumer.poll(timeout=0.2)
        values = [r.value for r in records]
        if rx.measure:
            for v in values:
                Alert.from_json(v)  # what the dispatcher does with every record
        if records:
            consumer.commit()
        return values

    rx = Receiver(poll, _emitted)
    rx.start()
    try:
        outbox.put(_alert(0, size), topic)  # warm-up: group join and metadata, not measured
        assert rx.expect(1), "warm-up alert never arrived"
        rx.latencies.clear()
        alerts = [_alert(i, size) for i in range(count)]
        rx.measure = False
        cpu0, broker0 = time.process_time(), _broker_cpu()
        t0 = time.perf_counter()
        for i in range(0, count, CHUNK):
            outbox.put_many(alerts[i:i + CHUNK], topic)  # serialises and fsyncs: part of our cost
        assert rx.expect(count), f"only {len(rx.latencies)} of {count} arrived"
        burst_s = rx.last - t0
        cpu = (time.process_time() - cpu0, _broker_cpu() - broker0)
        rx.latencies.clear()
        rx.measure = True
        _paced(lambda n: outbox.put(_alert(n, size), topic), rate, seconds)
        assert rx.expect(int(rate * seconds))
        return _summary("ours: outbox → relay → KafkaBus", count, burst_s, list(rx.latencies), cpu)
    finally:
        rx.stop.set()
        rx.join(5)
        relay.stop()
        consumer.close()
        outbox.close()


def run_reference(bootstrap: list[str], consumer_opts: dict, count: int, rate: float, seconds: float,
                  size: int) -> dict:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"bench.ref.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 1, -1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_CFG)
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"ref-{uuid.uuid4().hex[:8]}",
                             auto_offset_reset="earliest", **consumer_opts)

    def poll() -> list[bytes]:
        batches = consumer.poll(timeout_ms=200)
        values = [r.value for recs in batches.values() for r in recs]
        if rx.measure:
            for v in values:
                Alert.from_json(v)  # the same parsing cost as ours
        return values

    def send(n: int) -> None:
        producer.send(topic, _alert(n, size).to_json(), key=f"cam-{n % 16}".encode())

    rx = Receiver(poll, _emitted)
    rx.start()
    try:
        send(0)
        producer.flush()
        assert rx.expect(1), "warm-up record never arrived"
        rx.latencies.clear()
        alerts = [_alert(i, size) for i in range(count)]
        rx.measure = False
        cpu0, broker0 = time.process_time(), _broker_cpu()
        t0 = time.perf_counter()
        for a in alerts:
            producer.send(topic, a.to_json(), key=a.key)  # the same serialisation as ours
        producer.flush()
        assert rx.expect(count), f"only {len(rx.latencies)} of {count} arrived"
        burst_s = rx.last - t0
        cpu = (time.process_time() - cpu0, _broker_cpu() - broker0)
        rx.latencies.clear()
        rx.measure = True
        _paced(send, rate, seconds)
        producer.flush()
        assert rx.expect(int(rate * seconds))
        return _summary("reference: bare kafka-python", count, burst_s, list(rx.latencies), cpu)
    finally:
        rx.stop.set()
        rx.join(5)
        producer.close()
        consumer.close()


def _paced(fire: Callable[[int], None], rate: float, seconds: float) -> None:
    start = time.monotonic()
    for n in range(int(rate * seconds)):
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
        fire(n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20000, help="alerts in the burst")
    ap.add_argument("--rate", type=float, default=50.0, help="alerts/s for the latency run")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    ap.add_argument("--size", type=int, default=1000, help="bytes of JSON per alert (about)")
    ap.add_argument("--kafka", help="kafka:// URL; default: a Tansu broker on loopback")
    ap.add_argument("--embedded", action="store_true", help="also run ours on the embedded bus")
    ap.add_argument("--relay-batch", type=int, default=None, help="OutboxRelay batch_size (default: its own)")
    ap.add_argument("--batch-bytes", type=int, default=None, help="producer batch_size for both pipelines")
    ap.add_argument("--chunk", type=int, default=100, help="alerts per outbox transaction in the burst")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each pipeline, alternating")
    args = ap.parse_args()
    global RELAY_BATCH, CHUNK
    RELAY_BATCH, CHUNK = args.relay_batch or RELAY_BATCH, args.chunk
    broker = None
    if args.kafka:
        url = args.kafka
    else:
        # The tests' helper; the repository root is not on sys.path when run as a script.
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.support.tansu import TansuBroker

        broker = TansuBroker().start()
        url = broker.url
        global BROKER_PID
        BROKER_PID = broker._proc.pid if getattr(broker, "_proc", None) is not None else None
    try:
        from alerts.kafka_bus import KafkaBus

        if args.batch_bytes:
            url += ("&" if "?" in url else "?") + f"batch_size={args.batch_bytes}"
            PRODUCER_CFG["batch_size"] = args.batch_bytes
        bus = KafkaBus(url)
        opts = {k: v for k, v in bus._consumer_cfg.items()
                if k in ("session_timeout_ms", "heartbeat_interval_ms", "fetch_max_wait_ms")}
        with tempfile.TemporaryDirectory() as tmp:
            results = []
            for _ in range(args.repeat):  # alternate, so a change in the machine's load hits both
                results.append(run_reference(bus.bootstrap, opts, args.count, args.rate, args.seconds, args.size))
                results.append(run_ours(bus, Path(tmp), args.count, args.rate, args.seconds, args.size))
            if args.embedded:
                embedded = open_bus(f"embedded://{Path(tmp) / 'bus.db'}")
                results.append({**run_ours(embedded, Path(tmp), args.count, args.rate, args.seconds, args.size),
                                "pipeline": "ours on the embedded bus"})
    finally:
        if broker is not None:
            broker.stop()
    refs = [r for r in results if r["pipeline"].startswith("reference")]
    mine = [r for r in results if r["pipeline"].startswith("ours:")]
    # Each "ours" ran right after its reference: compare within a pair, where the machine's load
    # was most alike, then take the median over pairs.
    ratios = [o["burst_msg_s"] / r["burst_msg_s"] for r, o in zip(refs, mine)]
    print(f"{args.count} alerts of ~{args.size} B; latency at {args.rate:g}/s for {args.seconds:g} s")
    print("| pipeline | burst alerts/s | p50 ms | p99 ms | client CPU ms / 1k | broker CPU ms / 1k |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['pipeline']} | {r['burst_msg_s']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{r['cpu_ms_per_1k']:.0f} | {r['broker_cpu_ms_per_1k']:.0f} |")
    print("ours/reference per pair: " + ", ".join(f"{x:.2f}" for x in ratios))
    print(f"throughput overhead vs reference (median over pairs): {100 * (1 - statistics.median(ratios)):.1f} %")
    cpu = [(o["cpu_ms_per_1k"] + o["broker_cpu_ms_per_1k"]) / (r["cpu_ms_per_1k"] + r["broker_cpu_ms_per_1k"])
           for r, o in zip(refs, mine)]
    print("CPU (client + broker) ours/reference per pair: " + ", ".join(f"{x:.2f}" for x in cpu))
    print(f"CPU overhead vs reference (median over pairs): {100 * (statistics.median(cpu) - 1):.1f} %")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
