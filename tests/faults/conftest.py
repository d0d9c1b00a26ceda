"""Fixtures for the fault tests: real brokers, the real api dispatcher and engine on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.dispatch.engine import DispatchEngine
from api.store import AlertRow, IncidentRow, make_session_factory, migrate
from tests.api.conftest import dispatch_config, responders
from tests.faults.brokers import DurableTansu, S3Server, SeaweedS3
from tests.support.tansu import TansuBroker

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def durable_broker(tmp_path):
    # SeaweedFS when installed (the test extra has it), moto otherwise: see SeaweedS3 for why.
    s3 = SeaweedS3(tmp_path / "s3").start() if SeaweedS3.binary() else S3Server().start()
    broker = DurableTansu(s3).start()
    try:
        yield broker
    finally:
        broker.kill()
        s3.stop()


@pytest.fixture
def memory_broker():
    # One broker per test: the dispatcher reads the fixed alert topic, which must hold only ours.
    with TansuBroker() as broker:
        yield broker


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'lookout.db'}"
    migrate(url)
    return url


@pytest.fixture
def sessions(db_url):
    factory = make_session_factory(db_url)
    yield factory
    factory.kw["bind"].dispose()


def make_engine(sessions) -> DispatchEngine:
    engine = DispatchEngine(sessions, dispatch_config())
    engine.upsert_responders(responders())
    return engine


def store_counts(sessions) -> tuple[list[str], int, int]:
    """(alert ids in the store, incidents, sum of the incidents' alert counts)."""
    with sessions() as s:
        ids = list(s.scalars(select(AlertRow.alert_id)))
        incidents = s.scalar(select(func.count()).select_from(IncidentRow)) or 0
        grouped = s.scalar(select(func.coalesce(func.sum(IncidentRow.alert_count), 0))) or 0
    return ids, incidents, grouped


def wait_for(pred, timeout: float, what: str):
    """A bound against hanging, not a timing assertion."""
    end = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def spawn(module: str, *args: str) -> subprocess.Popen:
    """A helper process (`python -m tests.faults.<module>`) whose stdout lines say where it is."""
    return subprocess.Popen(
        [sys.executable, "-m", f"tests.faults.{module}", *args], cwd=REPO, stdout=subprocess.PIPE,
        stderr=None, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def wait_line(proc: subprocess.Popen, expected: str) -> None:
    """Read the helper's stdout until `expected` (it blocks there; the test then kills it)."""
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.strip() == expected:
            return
    raise AssertionError(f"helper exited with {proc.wait()} before printing {expected!r}")
