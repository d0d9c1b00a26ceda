"""GET /api/alerts/{id}/clip: operators get the MP4 (local file or S3, with Range), units do not,
and a clip still being recorded is 404 "clip not ready"."""

from __future__ import annotations

import json
import os
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's own warning about its httpx-based client
    from fastapi.testclient import TestClient

from alerts.evidence.store import LocalEvidenceStore, S3EvidenceStore, clip_key
from alerts.model import Clip
from api.app import create_app
from api.settings import Settings
from tests.alerts.evidence_support import KEY_ENV, SECRET_ENV, s3_cfg, s3_server  # noqa: F401  (fixtures)
from tests.api.conftest import TOKENS, make_alert, write_configs

OP = {"Authorization": "Bearer tok-operator"}
DATA = os.urandom(200_000)  # the bytes stand in for an MP4: the route streams, it does not decode


def _client(tmp_path, site_yaml: dict | None = None) -> TestClient:
    write_configs(tmp_path / "configs")
    if site_yaml is not None:
        (tmp_path / "configs" / "site.yaml").write_text(json.dumps(site_yaml))
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'lookout.db'}",
                        bus_url=f"embedded:///{tmp_path.as_posix().lstrip('/')}/bus.db",
                        config_dir=tmp_path / "configs", data_dir=tmp_path / "data", tokens=TOKENS,
                        dispatcher_enabled=False)
    return TestClient(create_app(settings, start_background=False))


def _alert_with_clip(client, store, track: int):
    alert = make_alert(track=track)
    alert = alert.model_copy(update={"clip": Clip(uri=store.uri(clip_key(alert.alert_id)), pre_s=5, post_s=5)})
    client.app.state.engine.handle_alert(alert)
    return alert


def _check_serving(client, store, tmp_path):
    alert = _alert_with_clip(client, store, track=3)
    url = f"/api/alerts/{alert.alert_id}/clip"
    r = client.get(url, headers=OP)
    assert r.status_code == 404 and r.json()["detail"] == "clip not ready"
    src = tmp_path / "clip.mp4"
    src.write_bytes(DATA)
    store.put_file(clip_key(alert.alert_id), src)
    r = client.get(url, headers=OP)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4" and r.content == DATA
    r = client.get(url, headers={**OP, "Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == DATA[1000:2000]
    assert r.headers["content-range"] == f"bytes 1000-1999/{len(DATA)}"
    r = client.get(url, headers={**OP, "Range": "bytes=-100"})
    assert r.status_code == 206 and r.content == DATA[-100:]
    # <video src> cannot send headers: the token may come in the query, as for snapshots
    assert client.get(f"{url}?access_token=tok-operator").status_code == 200
    assert client.get(url, headers={"Authorization": "Bearer tok-engineer"}).status_code == 200
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer tok-unit"}).status_code == 403
    assert client.get(f"{url}?access_token=tok-unit").status_code == 403


def test_local_clip_served_to_readers_refused_to_units(tmp_path):
    with _client(tmp_path) as client:
        _check_serving(client, LocalEvidenceStore(tmp_path / "data" / "evidence"), tmp_path)
        no_clip = make_alert(track=9)
        client.app.state.engine.handle_alert(no_clip)
        r = client.get(f"/api/alerts/{no_clip.alert_id}/clip", headers=OP)
        assert r.status_code == 404 and r.json()["detail"] == "no clip for this alert"
        assert client.get("/api/alerts/not-an-alert/clip", headers=OP).status_code == 404


def test_s3_clip_streamed_from_the_bucket(tmp_path, s3_cfg):
    site = {"site": {"id": "demo", "name": "Demo"},
            "evidence": {"store": "s3", "s3": s3_cfg.model_dump(mode="json")}}
    with _client(tmp_path, site) as client:
        _check_serving(client, S3EvidenceStore(s3_cfg), tmp_path)
        # an s3:// URI of another bucket is not served (the API only reads its configured bucket)
        alert = make_alert(track=5)
        client.app.state.engine.handle_alert(alert.model_copy(update={"clip": Clip(
            uri=f"s3://elsewhere/{clip_key(alert.alert_id)}", pre_s=5, post_s=5)}))
        assert client.get(f"/api/alerts/{alert.alert_id}/clip", headers=OP).status_code == 404


def test_unreadable_s3_credentials_are_503_without_secrets(tmp_path, s3_server, monkeypatch):
    monkeypatch.delenv("LOOKOUT_UNSET_KEY", raising=False)
    site = {"site": {"id": "demo", "name": "Demo"}, "evidence": {"store": "s3", "s3": {
        "bucket": "evidence", "endpoint_url": s3_server.endpoint, "access_key_env": "LOOKOUT_UNSET_KEY"}}}
    with _client(tmp_path, site) as client:
        alert = make_alert(track=4)
        client.app.state.engine.handle_alert(alert.model_copy(update={"clip": Clip(
            uri=f"s3://evidence/lookout/{clip_key(alert.alert_id)}", pre_s=5, post_s=5)}))
        r = client.get(f"/api/alerts/{alert.alert_id}/clip", headers=OP)
        assert r.status_code == 503 and "LOOKOUT_UNSET_KEY" in r.json()["detail"]


pytestmark = pytest.mark.integration
