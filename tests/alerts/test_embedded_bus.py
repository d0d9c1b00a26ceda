"""The embedded (SQLite) bus: shared by processes, Kafka-like group offsets."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from alerts.bus import BusError, open_bus
from alerts.embedded_bus import EmbeddedBus

TOPIC = "lookout.alerts.v1"


def _produce(url: str, writer: int, count: int) -> None:
    bus = open_bus(url)
    producer = bus.producer()
    for i in range(count):
        producer.send(TOPIC, json.dumps({"w": writer, "n": i}).encode(), key=f"cam-{writer}".encode())
        if i % 25 == 24:  # several transactions, interleaved with the reader's polls
            producer.flush()
    producer.close()


def _consume(url: str, count: int, out: str) -> None:
    bus = open_bus(url)
    consumer = bus.consumer([TOPIC], "dispatcher")
    seen: list[tuple[int, int, int]] = []
    for _ in range(600):  # bounded: 600 polls of at most 0.1 s
        for record in consumer.poll(timeout=0.1):
            value = json.loads(record.value)
            seen.append((record.offset, value["w"], value["n"]))
        consumer.commit()
        if len(seen) >= count:
            break
    consumer.close()
    Path(out).write_text(json.dumps(seen))


def test_two_writer_processes_and_a_reader_process(tmp_path: Path):
    url = f"embedded://{tmp_path / 'bus.db'}"  # embedded:///abs/... form
    EmbeddedBus(url).ensure_topics([TOPIC])
    ctx = multiprocessing.get_context("spawn")
    out = tmp_path / "seen.json"
    reader = ctx.Process(target=_consume, args=(url, 200, str(out)))
    writers = [ctx.Process(target=_produce, args=(url, w, 100)) for w in (1, 2)]
    reader.start()
    for w in writers:
        w.start()
    for p in (*writers, reader):
        p.join(60)
    assert [p.exitcode for p in (*writers, reader)] == [0, 0, 0]
    seen = json.loads(out.read_text())
    assert [offset for offset, _, _ in seen] == list(range(200))  # one log, no gaps, no repeats
    for w in (1, 2):  # each writer's records arrive complete and in the order written
        assert [n for _, writer, n in seen if writer == w] == list(range(100))
    # the reader committed: the group has nothing left
    again = open_bus(url).consumer([TOPIC], "dispatcher")
    assert again.poll(timeout=0.2) == []


def test_group_offsets_persist_and_uncommitted_records_come_back(tmp_path: Path):
    bus = open_bus(f"embedded://{tmp_path / 'bus.db'}")
    producer = bus.producer()
    for i in range(5):
        producer.send(TOPIC, b"%d" % i, key=b"k")
    producer.flush()

    first = bus.consumer([TOPIC], "g")
    got = first.poll(timeout=1, max_records=3)
    assert [r.value for r in got] == [b"0", b"1", b"2"]
    assert [r.offset for r in got] == [0, 1, 2] and got[0].key == b"k" and got[0].partition == 0
    first.commit()
    assert [r.value for r in first.poll(timeout=1)] == [b"3", b"4"]
    first.close()  # 3 and 4 were polled but never committed

    second = bus.consumer([TOPIC], "g")
    assert [r.value for r in second.poll(timeout=1)] == [b"3", b"4"]
    second.commit()
    second.close()
    # another group is independent and starts from the earliest record
    assert len(bus.consumer([TOPIC], "other").poll(timeout=1)) == 5
    # a re-opened bus (a restarted process) sees the committed offset
    reopened = EmbeddedBus(f"embedded://{tmp_path / 'bus.db'}").consumer([TOPIC], "g")
    assert reopened.poll(timeout=0.2) == []


def test_several_topics_and_relative_url(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bus = open_bus("embedded://data/bus.db")
    assert (tmp_path / "data" / "bus.db").exists()
    producer = bus.producer()
    producer.send("a", b"a0")
    producer.send("b", b"b0")
    producer.send("a", b"a1")
    producer.close()  # close flushes
    records = bus.consumer(["a", "b"], "g").poll(timeout=1)
    assert sorted((r.topic, r.offset, r.value) for r in records) == [
        ("a", 0, b"a0"), ("a", 1, b"a1"), ("b", 0, b"b0")]


def test_bad_url_is_a_bus_error():
    with pytest.raises(BusError):
        open_bus("embedded://")
    with pytest.raises(BusError):
        open_bus("sqlite:///x.db")
