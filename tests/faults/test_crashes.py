"""Faults (b) and (c): a worker SIGKILLed around the outbox, a dispatcher SIGKILLed mid-batch.

Real processes, real SIGKILL, a real Kafka-protocol broker (Tansu; it is not restarted here, so
its memory storage is enough) and the real api Dispatcher + DispatchEngine on SQLite.
"""

from __future__ import annotations

import signal

import pytest

from alerts.bus import open_bus
from alerts.model import ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC
from alerts.outbox import Outbox, OutboxRelay
from api.dispatcher import Dispatcher
from tests.api.conftest import make_alert
from tests.faults.conftest import make_engine, spawn, store_counts, wait_for, wait_line

COUNT = 12


def _kill(proc) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("stop_at", ["put", "sent"])
def test_worker_killed_around_the_outbox_sends_on_restart(stop_at, memory_broker, sessions, tmp_path):
    """`put`: killed after the outbox write, before any send → sent by the restarted worker.
    `sent`: killed after the broker acknowledged, before the rows were marked sent → sent again
    on restart, and the dispatcher's upsert by alert_id keeps one copy."""
    bus = open_bus(memory_broker.url)
    bus.ensure_topics([ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC])
    outbox_path = str(tmp_path / "outbox.db")
    worker = spawn("worker_proc", outbox_path, memory_broker.url, stop_at, str(COUNT))
    try:
        wait_line(worker, stop_at.upper())
    finally:
        _kill(worker)
    assert worker.returncode == -signal.SIGKILL
    outbox = Outbox(tmp_path / "outbox.db")
    assert outbox.pending_count() == COUNT  # the write survived; nothing is marked sent
    outbox.close()

    dispatcher = Dispatcher(bus, make_engine(sessions), "fault-worker", poll_timeout=0.2)
    dispatcher.start()
    try:
        restarted = spawn("worker_proc", outbox_path, memory_broker.url, "relay", str(COUNT))
        wait_line(restarted, "DRAINED")
        assert restarted.wait(timeout=30) == 0
        restarted.stdout.close()
        expected_records = COUNT * (2 if stop_at == "sent" else 1)
        wait_for(lambda: dispatcher.handled >= expected_records, 90, "every record at the dispatcher")
    finally:
        dispatcher.stop()
    ids, _, grouped = store_counts(sessions)
    assert len(ids) == COUNT and len(set(ids)) == COUNT
    assert grouped == COUNT
    assert dispatcher.handled == expected_records  # `sent`: each alert arrived twice, stored once


@pytest.mark.timeout(180)
def test_dispatcher_killed_mid_batch_loses_nothing_and_duplicates_nothing(memory_broker, sessions, db_url, tmp_path):
    bus = open_bus(memory_broker.url)
    bus.ensure_topics([ALERTS_TOPIC, DEAD_LETTER_TOPIC, DISPATCH_EVENTS_TOPIC])
    total, stop_after = 30, 11
    outbox = Outbox(tmp_path / "outbox.db")
    # One camera each: every alert opens its own incident, so a replayed alert that slipped
    # through would show as an extra incident.
    outbox.put_many([make_alert(source=f"cam-{i}", track=i, observed=1_800_000_000.0 + i) for i in range(total)])
    relay = OutboxRelay(outbox, bus).start()
    assert relay.drain(timeout=60)
    relay.stop()

    crashing = spawn("dispatcher_proc", db_url, memory_broker.url, "fault-consumer", str(stop_after))
    try:
        wait_line(crashing, "MID")
    finally:
        _kill(crashing)
    ids, incidents, _ = store_counts(sessions)
    assert len(ids) == stop_after == incidents  # stored, but the batch's offsets never committed

    successor = Dispatcher(bus, make_engine(sessions), "fault-consumer", poll_timeout=0.2)
    successor.start()
    try:
        wait_for(lambda: len(store_counts(sessions)[0]) >= total, 90, "every alert stored")
        wait_for(lambda: successor.handled > total - stop_after, 30, "the re-read batch committed")
    finally:
        successor.stop()
    ids, incidents, grouped = store_counts(sessions)
    assert sorted(ids) == sorted(make_alert(source=f"cam-{i}", track=i, observed=1_800_000_000.0 + i).alert_id
                                 for i in range(total))
    assert incidents == total and grouped == total  # no duplicate incident
    # It re-read records the killed one had already stored (uncommitted) and found them done.
    assert successor.handled > total - stop_after
