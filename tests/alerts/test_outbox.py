"""The outbox and its relay: alerts survive a broker outage and arrive at least once."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from alerts.bus import open_bus
from alerts.model import Alert
from alerts.outbox import Outbox, OutboxRelay
from tests.alerts.conftest import poll_until, sample_alert
from tests.support.tansu import TansuBroker


def _wait(condition, timeout: float) -> bool:
    """Bounded wait for a state change (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def test_put_dedupes_and_tracks_pending(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db")
    a, b = sample_alert(1), sample_alert(2)
    assert outbox.put(a) is True
    assert outbox.put(a) is False  # the same alert again (a replay or a retry)
    assert outbox.put(b) is True
    assert outbox.pending_count() == 2
    rows = outbox.pending(10)
    assert [r[0] for r in rows] == [a.alert_id, b.alert_id]  # oldest first
    alert_id, topic, key, value = rows[0]
    assert topic == "lookout.alerts.v1" and key == b"cam-1" and Alert.from_json(value) == a
    outbox.mark_sent([a.alert_id])
    assert [r[0] for r in outbox.pending(10)] == [b.alert_id]
    assert outbox.put(a) is False  # still remembered after sending
    assert outbox.prune(older_than_s=3600) == 0  # sent just now: kept
    assert outbox.prune(older_than_s=-1) == 1  # older than "the future": the sent row goes
    assert outbox.pending_count() == 1
    # a burst in one transaction, deduped the same way
    assert outbox.put_many([b, sample_alert(3), sample_alert(4)]) == 2
    assert outbox.pending_count() == 3
    outbox.close()
    # durable: a new process sees the pending rows
    assert [r[0] for r in Outbox(tmp_path / "outbox.db").pending(10)] == [
        b.alert_id, sample_alert(3).alert_id, sample_alert(4).alert_id]


@pytest.mark.integration
def test_relay_delivers_to_the_broker(tansu, tmp_path: Path, group_id):
    bus = open_bus(tansu.url)
    bus.ensure_topics(["lookout.alerts.v1"])
    outbox = Outbox(tmp_path / "outbox.db")
    alerts = [sample_alert(100 + i, camera=f"cam-{i % 2}") for i in range(20)]
    relay = OutboxRelay(outbox, bus).start()
    try:
        for alert in alerts:
            outbox.put(alert)
        assert relay.drain(timeout=30)
    finally:
        relay.stop()
    assert relay.sent == 20 and outbox.pending_count() == 0
    consumer = bus.consumer(["lookout.alerts.v1"], group_id)
    try:
        # The session broker's alert topic is shared with other tests: look for ours.
        wanted = {a.alert_id for a in alerts}
        seen: set[str] = set()
        deadline = time.monotonic() + 20
        while not wanted <= seen and time.monotonic() < deadline:
            seen |= {Alert.from_json(r.value).alert_id for r in consumer.poll(timeout=0.5)}
    finally:
        consumer.close()
    assert wanted <= seen


def test_pipelined_relay_delivers_every_batch_once_and_in_order(tansu, tmp_path: Path, group_id, topic):
    """Small batches, two in flight: each record arrives once, each camera's records in order."""
    bus = open_bus(tansu.url)
    bus.ensure_topics([topic])
    outbox = Outbox(tmp_path / "outbox.db")
    alerts = [sample_alert(500 + i, camera=f"cam-{i % 3}") for i in range(600)]
    outbox.put_many(alerts, topic=topic)
    relay = OutboxRelay(outbox, bus, topic, batch_size=50, window=2).start()
    try:
        assert relay.drain(timeout=60)
    finally:
        relay.stop()
    assert relay.sent == 600 and outbox.pending_count(topic) == 0
    consumer = bus.consumer([topic], group_id)
    try:
        got: list[Alert] = []
        deadline = time.monotonic() + 30
        while len(got) < 600 and time.monotonic() < deadline:
            got += [Alert.from_json(r.value) for r in consumer.poll(timeout=0.5)]
        time.sleep(0.5)
        got += [Alert.from_json(r.value) for r in consumer.poll(timeout=0.2)]
    finally:
        consumer.close()
    assert sorted(a.alert_id for a in got) == sorted(a.alert_id for a in alerts)  # all, once
    for cam in ("cam-0", "cam-1", "cam-2"):
        sent = [a.alert_id for a in alerts if a.source.id == cam]
        assert [a.alert_id for a in got if a.source.id == cam] == sent


def test_relay_works_on_the_embedded_bus(tmp_path: Path):
    bus = open_bus(f"embedded://{tmp_path / 'bus.db'}")
    outbox = Outbox(tmp_path / "outbox.db")
    for i in range(5):
        outbox.put(sample_alert(i))
    relay = OutboxRelay(outbox, bus).start()
    try:
        assert relay.drain(timeout=10)
    finally:
        relay.stop()
    records = bus.consumer(["lookout.alerts.v1"], "dispatcher").poll(timeout=1)
    assert [Alert.from_json(r.value).alert_id for r in records] == [sample_alert(i).alert_id for i in range(5)]


def test_crash_between_send_and_mark_sent_resends(tmp_path: Path):
    bus = open_bus(f"embedded://{tmp_path / 'bus.db'}")
    outbox = Outbox(tmp_path / "outbox.db")
    alerts = [sample_alert(i) for i in range(4)]
    outbox.put_many(alerts)
    # What a relay does up to the moment it would mark the rows sent, then "crashes".
    producer = bus.producer()
    for _, topic, key, value in outbox.pending(10):
        producer.send(topic, value, key)
    producer.flush()
    producer.close()
    outbox.close()

    restarted = Outbox(tmp_path / "outbox.db")
    assert restarted.pending_count() == 4
    relay = OutboxRelay(restarted, bus).start()
    try:
        assert relay.drain(timeout=10)
    finally:
        relay.stop()
    ids = [Alert.from_json(r.value).alert_id for r in bus.consumer(["lookout.alerts.v1"], "d").poll(timeout=1)]
    assert len(ids) == 8  # each alert twice: at-least-once
    assert set(ids) == {a.alert_id for a in alerts}  # deduping by id gives exactly the set


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_broker_outage_delays_but_never_loses_alerts(tmp_path: Path, group_id, topic, caplog):
    caplog.set_level(logging.WARNING, logger="alerts.outbox")
    with TansuBroker() as broker:  # its own broker: this test stops it
        bus = open_bus(broker.url + "&bootstrap_timeout_ms=1000")
        bus.ensure_topics([topic])
        outbox = Outbox(tmp_path / "outbox.db")
        relay = OutboxRelay(outbox, bus, topic, flush_timeout=2.0, max_backoff=1.0).start()
        try:
            before = [sample_alert(i) for i in range(5)]
            for alert in before:
                outbox.put(alert, topic)
            assert relay.drain(timeout=30)

            broker.stop()
            during = [sample_alert(100 + i, camera=f"cam-{i % 3}") for i in range(30)]
            for alert in during:
                outbox.put(alert, topic)
            assert _wait(lambda: relay.failed > 0, timeout=30)
            assert outbox.pending_count(topic) == 30  # nothing is marked sent without an ack
            assert _wait(lambda: relay.failed >= 60, timeout=30)  # it keeps retrying

            broker.start()
            assert relay.drain(timeout=60), broker.log_tail()
        finally:
            relay.stop()
        assert relay.outages == 1 and relay.sent >= 35
        outage_warnings = [r for r in caplog.records if "bus unavailable" in r.getMessage()]
        assert len(outage_warnings) == 1, "one warning per outage, not one per retry"

        # Tansu's memory storage forgot everything before the restart (and the topic, which the
        # producer re-created), so only the alerts put during the outage can be read back; on
        # Kafka the first five would be there too.
        consumer = bus.consumer([topic], group_id)
        try:
            records = poll_until(consumer, len(during), timeout=30)
            records += consumer.poll(timeout=0.5)
        finally:
            consumer.close()
        received = [Alert.from_json(r.value).alert_id for r in records]
        assert set(received) == {a.alert_id for a in during}  # at least once; exactly the set by id


def test_mark_span_marks_exactly_the_batch_it_was_given(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.put_many([sample_alert(i) for i in range(3)], "a")
    outbox.put(sample_alert(10), "b")  # another topic, inside the seq range
    outbox.put(sample_alert(4), "a")
    rows, first, last = outbox.pending_span(10, "a")
    assert [r[0] for r in rows] == [sample_alert(i).alert_id for i in (0, 1, 2, 4)]
    outbox.put(sample_alert(5), "a")  # put after the read: beyond `last`
    assert outbox.mark_span("a", first, last) == 4
    assert [r[0] for r in outbox.pending(10)] == [sample_alert(10).alert_id, sample_alert(5).alert_id]
    assert outbox.pending_span(10, "x") == ([], 0, -1)
    outbox.close()
