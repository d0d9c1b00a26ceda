"""Alert v1 with the optional `clip`: validates against the published schema with and without
it, and consumers built before the field existed still parse it."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from alerts.evidence.config import EvidenceConfig
from alerts.model import Alert, Clip, TrackPoint
from alerts.schema import alert_json_schema
from alerts.site import SiteFile
from tests.alerts.conftest import sample_alert

CLIP = Clip(uri="evidence://clips/x.mp4", pre_s=5, post_s=5, track_id=1,
            track=[TrackPoint(t=-0.5, x=10, y=80), TrackPoint(t=0, x=15, y=80)])


@pytest.mark.parametrize("with_clip", [False, True])
def test_alert_json_validates_against_schema(with_clip):
    alert = sample_alert(1)
    if with_clip:
        alert = alert.model_copy(update={"clip": CLIP})
    doc = json.loads(alert.to_json())
    jsonschema.validate(doc, alert_json_schema(), cls=jsonschema.Draft202012Validator)
    assert (doc["clip"] is not None) == with_clip
    assert Alert.from_json(json.dumps(doc)) == alert


def test_schema_rejects_a_clip_without_uri():
    doc = json.loads(sample_alert(1).model_copy(update={"clip": CLIP}).to_json())
    del doc["clip"]["uri"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, alert_json_schema(), cls=jsonschema.Draft202012Validator)


def test_old_consumer_without_clip_field_still_parses():
    # A consumer model from before `clip` existed: every field but clip, unknown ones ignored.
    from pydantic import create_model

    fields = {n: (f.annotation, f) for n, f in Alert.model_fields.items() if n != "clip"}
    OldAlert = create_model("OldAlert", __config__=Alert.model_config, **fields)
    new = sample_alert(2).model_copy(update={"clip": CLIP})
    old = OldAlert.model_validate_json(new.to_json())
    assert old.alert_id == new.alert_id and not hasattr(old, "clip")
    # and a new consumer reads an old producer's message (no clip key at all)
    data = json.loads(sample_alert(2).to_json())
    data.pop("clip")
    assert Alert.from_json(json.dumps(data)).clip is None


def test_site_yaml_evidence_section_defaults_and_checks():
    site = SiteFile.model_validate({"site": {"id": "s", "name": "S"}})
    assert site.evidence == EvidenceConfig() and site.evidence.store == "local"
    assert (site.evidence.pre_s, site.evidence.post_s, site.evidence.retention_days) == (5, 5, 30)
    with pytest.raises(ValidationError, match="s3"):
        SiteFile.model_validate({"site": {"id": "s", "name": "S"}, "evidence": {"store": "s3"}})
    with pytest.raises(ValidationError, match="environment variable name"):
        SiteFile.model_validate({"site": {"id": "s", "name": "S"}, "evidence": {
            "store": "s3", "s3": {"bucket": "clips", "secret_key_env": "wJalrXUtnFEMI/K7MDENG"}}})
    cfg = SiteFile.model_validate({"site": {"id": "s", "name": "S"}, "evidence": {
        "store": "s3", "s3": {"bucket": "clips", "prefix": "/site-a", "endpoint_url": "http://127.0.0.1:9000"}}})
    assert cfg.evidence.s3.prefix == "site-a/"


def test_bad_evidence_setting_names_file_line_and_key(tmp_path):
    from rules.configfile import ConfigError, load_model

    path = tmp_path / "site.yaml"
    path.write_text("site:\n  id: s\n  name: S\nevidence:\n  pre_s: 5\n  post_s: 500\n")
    with pytest.raises(ConfigError) as info:
        load_model(SiteFile, path)
    assert f"{path}:6 evidence.post_s" in str(info.value)
