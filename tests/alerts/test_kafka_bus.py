"""The Kafka bus against a real Tansu broker (Kafka protocol) on loopback."""

from __future__ import annotations

import pytest

from alerts.bus import BusError, open_bus
from alerts.model import Alert
from tests.alerts.conftest import poll_until, sample_alert
from tests.support.tansu import TansuBroker, free_port

pytestmark = pytest.mark.integration  # a real broker process


def test_round_trip_keeps_key_value_and_order(tansu, topic, group_id):
    bus = open_bus(tansu.url)
    bus.ensure_topics([topic])
    producer = bus.producer()
    for i in range(10):
        producer.send(topic, b"v%d" % i, key=b"cam-1")
    producer.flush(10)
    producer.close()
    consumer = bus.consumer([topic], group_id)
    try:
        records = poll_until(consumer, 10)
    finally:
        consumer.close()
    assert [r.value for r in records] == [b"v%d" % i for i in range(10)]  # one key: one partition
    assert {r.key for r in records} == {b"cam-1"} and {r.topic for r in records} == {topic}
    assert [r.offset for r in records] == sorted(r.offset for r in records)


def test_reopened_consumer_gets_only_uncommitted_records(tansu, topic, group_id):
    bus = open_bus(tansu.url)
    bus.ensure_topics([topic])
    producer = bus.producer()

    def produce(values):
        for v in values:
            producer.send(topic, v, key=b"k")
        producer.flush(10)

    produce([b"a", b"b", b"c"])
    first = bus.consumer([topic], group_id)
    assert [r.value for r in poll_until(first, 3)] == [b"a", b"b", b"c"]
    first.commit()
    produce([b"d", b"e"])
    assert [r.value for r in poll_until(first, 2)] == [b"d", b"e"]
    first.close()  # d and e were processed but not committed: a crash before the commit

    # Consumers close one at a time in these tests: on Tansu two members closing together can
    # leave a ghost member that wedges the group (TESTING.md).
    second = bus.consumer([topic], group_id)
    try:
        again = poll_until(second, 2)
        again += second.poll(timeout=0.5)  # and nothing beyond them
        assert [r.value for r in again] == [b"d", b"e"]
        second.commit()
    finally:
        second.close()
    producer.close()


def test_ensure_topics_creates_and_tolerates_existing(tansu, topic):
    bus = open_bus(tansu.url)
    bus.ensure_topics([topic, topic + ".dlq"], partitions=3)
    bus.ensure_topics([topic], partitions=3)  # already there: no error
    producer = bus.producer()
    producer.send(topic + ".dlq", b"x")
    producer.flush(10)
    producer.close()


def test_malformed_record_does_not_break_the_consumer(tansu, topic, group_id):
    bus = open_bus(tansu.url)
    bus.ensure_topics([topic])
    producer = bus.producer()
    good = sample_alert(5)
    producer.send(topic, b"\xffnot json", key=b"cam-1")
    producer.send(topic, good.to_json(), key=good.key)
    producer.flush(10)
    producer.close()
    consumer = bus.consumer([topic], group_id)
    try:
        records = poll_until(consumer, 2)
    finally:
        consumer.close()
    assert [r.value for r in records][0] == b"\xffnot json"  # handed over as bytes
    with pytest.raises(ValueError):  # parsing, and sending to a dead-letter topic, is the dispatcher's job
        Alert.from_json(records[0].value)
    assert Alert.from_json(records[1].value) == good


@pytest.mark.timeout(60)
def test_unreachable_broker_is_a_bus_error_naming_the_url_without_secrets():
    port = free_port()  # nothing listens there
    bus = open_bus(f"kafka://user:s3cret@127.0.0.1:{port}?bootstrap_timeout_ms=1000&request_timeout_ms=2000")
    for attempt in (
        lambda: bus.ensure_topics(["t"]),
        lambda: bus.producer().send("t", b"x"),
        lambda: bus.consumer(["t"], "g"),
    ):
        with pytest.raises(BusError) as err:
            attempt()
        assert f"127.0.0.1:{port}" in str(err.value) and "s3cret" not in str(err.value)


def test_url_options_are_typed_and_routed():
    from alerts.kafka_bus import KafkaBus

    bus = KafkaBus("kafka://a:1,b:2?session_timeout_ms=3000&linger_ms=7&enable_idempotence=false"
                   "&sasl_plain_password=12345&acks=-1")
    assert bus.url == "kafka://a:1,b:2" and bus.bootstrap == ["a:1", "b:2"]
    assert bus._consumer_cfg["session_timeout_ms"] == 3000 and "session_timeout_ms" not in bus._producer_cfg
    assert bus._producer_cfg["linger_ms"] == 7 and bus._producer_cfg["enable_idempotence"] is False
    assert bus._producer_cfg["sasl_plain_password"] == "12345"  # text stays text
    assert bus._producer_cfg["acks"] == "all" and bus._consumer_cfg["enable_auto_commit"] is False


def test_url_options_are_checked():
    with pytest.raises(BusError, match="unknown option"):
        open_bus("kafka://127.0.0.1:9?no_such_option=1")
    with pytest.raises(BusError, match="fixed"):
        open_bus("kafka://127.0.0.1:9?enable_auto_commit=true")
    with pytest.raises(BusError):
        open_bus("kafka://")


@pytest.mark.timeout(90)
def test_producer_recovers_after_broker_restart(topic, group_id):
    # Its own broker: a restart of the session broker would disturb other tests. After a Tansu
    # restart the old idempotent producer is dead (InitProducerId/UnknownProducerId); the bus
    # must notice and build a new one. Memory storage also forgot the topic: it is auto-created.
    with TansuBroker() as broker:
        bus = open_bus(broker.url + "&bootstrap_timeout_ms=1000&request_timeout_ms=3000")
        bus.ensure_topics([topic])
        producer = bus.producer()
        producer.send(topic, b"before", key=b"k")
        producer.flush(10)
        reader = bus.consumer([topic], group_id)
        assert [r.value for r in poll_until(reader, 1)] == [b"before"]
        broker.stop()
        with pytest.raises(BusError):  # a commit during the outage fails, bounded; it never hangs
            reader.commit()
        reader.close()
        broker.start()
        delivered = False
        for _ in range(5):  # the first flush after the restart may fail; a retry must succeed
            try:
                producer.send(topic, b"after", key=b"k")
                producer.flush(10)
                delivered = True
                break
            except BusError:
                continue
        assert delivered
        consumer = bus.consumer([topic], group_id + "-after")
        try:
            assert b"after" in [r.value for r in poll_until(consumer, 1)]
        finally:
            consumer.close()
        producer.close()


def test_a_wedged_consumer_raises_so_its_owner_rebuilds_it(tansu, topic, group_id):
    """A member holding a partition with records behind it that receives nothing for `stall_s`
    raises BusError (the dispatcher then rebuilds its consumer). The wedge is simulated with the
    client's own pause(); KafkaBusConsumer never pauses partitions itself."""
    bus = open_bus(tansu.url)
    bus.ensure_topics([topic])
    producer = bus.producer()
    producer.send(topic, sample_alert().to_json(), key=b"cam")
    producer.flush(10)
    producer.close()
    consumer = bus.consumer([topic], group_id)
    try:
        assert len(poll_until(consumer, 1)) == 1  # joined, assigned, one record read
        consumer.commit()
        producer = bus.producer()
        producer.send(topic, sample_alert().to_json(), key=b"cam")
        producer.flush(10)
        producer.close()
        consumer._consumer.pause(*consumer._consumer.assignment())
        consumer.stall_s = 0.5
        with pytest.raises(BusError, match="stalled"):
            for _ in range(40):
                consumer.poll(timeout=0.1)
        # Caught up and idle is not a stall.
        consumer.stall_s = 30.0
        consumer._consumer.resume(*consumer._consumer.assignment())
        assert len(poll_until(consumer, 1)) == 1
        consumer.commit()
        consumer.stall_s = 0.2
        for _ in range(10):
            assert consumer.poll(timeout=0.1) == []
    finally:
        consumer.close()


def test_created_topics_get_a_retention_and_short_ones_are_reported(tansu, topic, caplog):
    """Retention goes into CreateTopics (Tansu cannot DescribeConfigs, so the spec is checked);
    an existing topic with fewer partitions than asked for is logged, not recreated."""
    bus = open_bus(tansu.url)
    assert bus._topic_spec("lookout.alerts.v1", 1)["configs"] == {"retention.ms": str(7 * 24 * 3600 * 1000)}
    assert bus._topic_spec("lookout.alerts.dlq", 1)["configs"] == {"retention.ms": str(30 * 24 * 3600 * 1000)}
    custom = open_bus(tansu.url + ("&" if "?" in tansu.url else "?") + "retention_hours=2")
    assert custom._topic_spec("lookout.alerts.v1", 3) == {
        "num_partitions": 3, "replication_factor": -1, "configs": {"retention.ms": str(2 * 3600 * 1000)}}
    custom.ensure_topics([topic], partitions=2)  # the broker accepts the spec
    with caplog.at_level("WARNING", logger="alerts.kafka_bus"):
        custom.ensure_topics([topic], partitions=4)
    assert f"topic {topic} has 2 partition(s), fewer than the 4 asked for" in caplog.text
