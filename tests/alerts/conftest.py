"""Fixtures for the alerts tests: a real Tansu broker (Kafka protocol) and helpers to read it."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest

from alerts.bus import Consumer, Record
from alerts.model import Alert, AlertObject, RuleRef, Source, make_alert_id
from tests.support.tansu import TansuBroker


@pytest.fixture(scope="session")
def tansu():
    """One broker for the session; tests isolate themselves with their own topics and groups."""
    with TansuBroker() as broker:
        yield broker


@pytest.fixture
def group_id(request) -> str:
    # A fresh group per test: Tansu can wedge a group whose members closed together (TESTING.md).
    return f"test-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def topic() -> str:
    return f"test.alerts.{uuid.uuid4().hex[:10]}"


def poll_until(consumer: Consumer, count: int, timeout: float = 20.0) -> list[Record]:
    """Poll until `count` records arrived or `timeout` passed; returns what arrived.

    The timeout is a bound against hanging, not an assertion: the first poll of a new group
    waits for the group join (about half the session timeout on Tansu).
    """
    out: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        out.extend(consumer.poll(timeout=0.5))
    return out


def sample_alert(n: int = 0, *, camera: str = "cam-1", site: str = "test-site") -> Alert:
    started = 1_790_000_000.0 + n
    at = datetime.fromtimestamp(started, tz=timezone.utc)
    return Alert(
        alert_id=make_alert_id(site, camera, "gate-tripwire", n, started),
        site=site,
        source=Source(kind="camera", id=camera),
        rule=RuleRef(id="gate-tripwire", kind="tripwire", severity="high"),
        started_at=at,
        observed_at=at,
        emitted_at=at,
        objects=[AlertObject(track_id=n, label="person", confidence=0.9, bbox=(1, 2, 30, 80), point=(15, 80))],
        evidence={"direction": "in"},
    )
