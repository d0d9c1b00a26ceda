"""A broker that lost its storage lost the topic too: after the outage the relay re-creates it
with Lookout's spec before it sends again, instead of relying on the broker's auto-creation (off
on most production Apache Kafka clusters). Tansu's memory storage is exactly such a broker, so
here its quirk is the fault. Tansu auto-creates a topic with 4 partitions when a client produces
to it or asks for it; `ensure_topics` makes 1, so the partition count tells who created it."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer

from alerts.bus import open_bus
from alerts.outbox import Outbox, OutboxRelay
from tests.alerts.conftest import sample_alert
from tests.faults.brokers import FAST_FAIL


def _partitions(bootstrap: str, topic: str) -> set[int] | None:
    # No auto-creation: asking about the topic must not create it.
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], allow_auto_create_topics=False)
    try:
        return consumer.partitions_for_topic(topic)
    finally:
        consumer.close()


@pytest.mark.timeout(120)
def test_relay_recreates_a_lost_topic_with_its_own_spec(memory_broker, tmp_path):
    topic = "lookout.alerts.recreated"
    bus = open_bus(f"{memory_broker.url}&{FAST_FAIL}")
    outbox = Outbox(tmp_path / "outbox.db")
    relay = OutboxRelay(outbox, bus, topic, flush_timeout=3.0, max_backoff=0.5).start()
    try:
        outbox.put(sample_alert(1), topic)
        assert relay.drain(timeout=30)
        assert _partitions(memory_broker.bootstrap, topic) == {0}  # ensure_topics: 1 partition
        memory_broker.stop()
        outbox.put(sample_alert(2), topic)  # fired during the outage
        deadline = time.monotonic() + 60
        while relay.failed == 0 and time.monotonic() < deadline:  # a bound, not a timing check
            time.sleep(0.05)
        assert relay.failed > 0
        memory_broker.start()  # memory storage: the topic is gone
        assert relay.drain(timeout=60), memory_broker.log_tail()
    finally:
        relay.stop()
    assert _partitions(memory_broker.bootstrap, topic) == {0}  # re-created by the relay, not auto-created
