"""A malformed record on the alert topic, through a real Kafka-protocol broker: it goes to the
dead-letter topic with the reason, and the dispatcher keeps going with the records after it."""

from __future__ import annotations

import json

import pytest

from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC
from api.dispatcher import Dispatcher
from tests.api.conftest import make_alert
from tests.faults.conftest import make_engine, store_counts, wait_for


@pytest.mark.timeout(120)
def test_malformed_records_go_to_the_dead_letter_topic_and_the_stream_goes_on(memory_broker, sessions):
    bus = open_bus(memory_broker.url)
    bus.ensure_topics([ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC])
    good = [make_alert(source="cam-1", track=i, observed=1_800_000_000.0 + i) for i in range(3)]
    producer = bus.producer()
    producer.send(ALERTS_TOPIC, b"\xffnot json", key=b"cam-1")
    producer.send(ALERTS_TOPIC, good[0].to_json(), key=b"cam-1")
    producer.send(ALERTS_TOPIC, json.dumps({"alert_id": "only-an-id"}).encode(), key=b"cam-1")
    for alert in good[1:]:
        producer.send(ALERTS_TOPIC, alert.to_json(), key=b"cam-1")
    producer.flush(10)
    producer.close()

    dispatcher = Dispatcher(bus, make_engine(sessions), "fault-dlq", poll_timeout=0.2)
    dispatcher.start()
    try:
        wait_for(lambda: dispatcher.handled >= 5, 60, "all five records handled")
    finally:
        dispatcher.stop()
    assert sorted(store_counts(sessions)[0]) == sorted(a.alert_id for a in good)

    reader = bus.consumer([DEAD_LETTER_TOPIC], "fault-dlq-reader")
    try:
        dead = []
        wait_for(lambda: dead.extend(reader.poll(timeout=0.5)) or len(dead) >= 2, 30, "two dead letters")
    finally:
        reader.close()
    letters = [json.loads(r.value) for r in dead]
    assert len(letters) == 2 and {r.key for r in dead} == {b"cam-1"}
    assert letters[0]["reason"].startswith(f"{ALERTS_TOPIC}[0]@0: ")
    assert "not json" in letters[0]["value"]
    assert letters[1]["reason"].startswith(f"{ALERTS_TOPIC}[0]@2: not a valid Alert v1")
    assert "site" in letters[1]["reason"]  # names the missing fields
