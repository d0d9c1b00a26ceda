"""Evidence stores: local folder and a real S3 server (moto_server on loopback), same contract."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alerts.evidence.config import EvidenceConfig, S3Config
from alerts.evidence.store import (
    EvidenceError, LocalEvidenceStore, S3EvidenceStore, clip_key, open_store,
)
from tests.alerts.evidence_support import KEY_ENV, SECRET_ENV, s3_cfg, s3_server  # noqa: F401  (fixtures)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalEvidenceStore(tmp_path / "evidence")
    return S3EvidenceStore(request.getfixturevalue("s3_cfg"))


def _clip_file(tmp_path: Path, size: int = 300_000) -> Path:
    p = tmp_path / "src.mp4"
    p.write_bytes(os.urandom(size))
    return p


def test_round_trip_uri_size_ranges_list_delete(store, tmp_path):
    src = _clip_file(tmp_path)
    key = clip_key("a1b2c3")
    uri = store.uri(key)
    assert store.key_of(uri) == key
    assert store.size(key) is None  # not written yet: the API says "clip not ready"
    store.put_file(key, src)
    data = src.read_bytes()
    assert store.size(key) == len(data)
    assert b"".join(store.open_range(key, 0, len(data) - 1)) == data
    assert b"".join(store.open_range(key, 1000, 1999)) == data[1000:2000]
    assert [o.key for o in store.list("clips/")] == [key]
    store.delete(key)
    assert store.size(key) is None and list(store.list("clips/")) == []


def test_uris_name_the_store(tmp_path, s3_cfg):
    local = LocalEvidenceStore(tmp_path)
    assert local.uri("clips/x.mp4") == "evidence://clips/x.mp4"
    s3 = S3EvidenceStore(s3_cfg)
    assert s3.uri("clips/x.mp4") == f"s3://evidence/{s3_cfg.prefix}clips/x.mp4"
    # a store only resolves its own URIs, and never a key that could leave its folder
    assert local.key_of(s3.uri("clips/x.mp4")) is None
    assert s3.key_of("s3://other-bucket/" + s3_cfg.prefix + "clips/x.mp4") is None
    assert local.key_of("evidence://../etc/passwd") is None
    assert local.key_of("evidence://clips/../../x") is None
    with pytest.raises(ValueError):
        clip_key("../x")


def test_s3_object_has_video_content_type(s3_cfg, tmp_path):
    store = S3EvidenceStore(s3_cfg)
    store.put_file("clips/typed.mp4", _clip_file(tmp_path, 1000))
    head = store.client.head_object(Bucket="evidence", Key=f"{s3_cfg.prefix}clips/typed.mp4")
    assert head["ContentType"] == "video/mp4"


def test_missing_credentials_name_the_variables_not_values(s3_server, monkeypatch, caplog):
    monkeypatch.delenv("LOOKOUT_NO_SUCH_KEY", raising=False)
    monkeypatch.setenv("LOOKOUT_SECRET_SET", "very-secret-value")
    cfg = EvidenceConfig(store="s3", s3=S3Config(bucket="evidence", endpoint_url=s3_server.endpoint,
                                                 access_key_env="LOOKOUT_NO_SUCH_KEY",
                                                 secret_key_env="LOOKOUT_SECRET_SET"))
    with pytest.raises(EvidenceError, match="LOOKOUT_NO_SUCH_KEY") as info:
        open_store(cfg, Path("/nonexistent"))
    assert "very-secret-value" not in str(info.value) and "LOOKOUT_SECRET_SET" not in str(info.value)


def test_s3_unreachable_is_an_evidence_error(tmp_path, monkeypatch):
    from tests.support.tansu import free_port

    monkeypatch.setenv(KEY_ENV, "k")
    monkeypatch.setenv(SECRET_ENV, "s")
    cfg = S3Config(bucket="evidence", endpoint_url=f"http://127.0.0.1:{free_port()}",
                   access_key_env=KEY_ENV, secret_key_env=SECRET_ENV)
    store = S3EvidenceStore(cfg)
    with pytest.raises(EvidenceError, match="evidence"):
        store.put_file("clips/x.mp4", _clip_file(tmp_path, 10))


def test_local_store_default_root_is_under_the_data_dir(tmp_path):
    assert open_store(EvidenceConfig(), tmp_path).root == tmp_path / "evidence"
    assert open_store(EvidenceConfig(local_root=Path("clipsdir")), tmp_path).root == tmp_path / "clipsdir"
