"""Shared fixtures of the evidence tests: a real S3 server (moto_server on a free loopback port)."""

from __future__ import annotations

import uuid

import pytest

from alerts.evidence.config import S3Config

KEY_ENV, SECRET_ENV = "LOOKOUT_TEST_S3_KEY", "LOOKOUT_TEST_S3_SECRET"


@pytest.fixture(scope="module")
def s3_server():
    from tests.faults.brokers import S3Server  # moto[server] from the `test` extra

    server = S3Server(bucket="evidence").start()
    yield server
    server.stop()


@pytest.fixture
def s3_cfg(s3_server, monkeypatch) -> S3Config:
    """A fresh prefix per test in the server's `evidence` bucket; credentials via env names."""
    monkeypatch.setenv(KEY_ENV, "test-key")
    monkeypatch.setenv(SECRET_ENV, "test-secret")
    return S3Config(bucket="evidence", prefix=f"t-{uuid.uuid4().hex[:8]}/", endpoint_url=s3_server.endpoint,
                    access_key_env=KEY_ENV, secret_key_env=SECRET_ENV)
