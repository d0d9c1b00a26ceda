"""The console's own endpoints over HTTP (no browser): who may read and write what, and the
versioned, validated rules file. Fast; the browser flows are in test_console.py."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.store.models import OrderRow
from rules.config import RulesFile
from rules.configfile import load_model
from tests.api.conftest import make_alert, settings, sqlite_url  # noqa: F401 (fixtures)
from tests.e2e.test_console import CAMERA, write_site

H = {role: {"Authorization": f"Bearer tok-{role}"} for role in ("operator", "engineer", "unit", "guard", "service")}


@pytest.fixture
def client(settings, tmp_path):
    snapshot = write_site(settings.config_dir, settings.data_dir)
    with TestClient(create_app(settings, start_background=False)) as c:
        c.snapshot = snapshot
        yield c


def test_pages_are_public_and_data_is_not(client):
    for path in ("/", "/unit.html", "/fences.html", "/patrol.html", "/reports.html", "/static/js/session.js"):
        assert client.get(path).status_code == 200, path
    for path in ("/static/../app.py", "/static/%2e%2e/routes/console.py", "/nothing.html", "/static/js"):
        assert client.get(path).status_code == 404, path
    for path in ("/api/cameras", "/api/fences", "/api/fences/schema", "/api/console/whoami",
                 f"/api/cameras/{CAMERA}/frame.jpg", "/api/console/responders"):
        assert client.get(path).status_code == 401, path


def test_cameras_frames_and_whoami(client):
    cams = client.get("/api/cameras", headers=H["operator"]).json()
    assert [c["id"] for c in cams] == [CAMERA, "cam-2"] and "url" not in cams[0]
    assert client.get("/api/console/whoami", headers=H["unit"]).json() == {"role": "unit", "subject": "patrol-1"}
    r = client.get(f"/api/cameras/{CAMERA}/frame.jpg?access_token=tok-engineer")
    assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    assert client.get("/api/cameras/cam-2/frame.jpg", headers=H["operator"]).status_code == 404
    assert client.get("/api/cameras/..%2Fsnapshots%2Fa1/frame.jpg", headers=H["operator"]).status_code == 404
    assert client.get("/api/cameras", headers=H["unit"]).status_code == 403


def test_a_unit_sees_only_its_own_order_snapshot(client):
    state = client.app.state
    state.engine.handle_alert(make_alert(severity="high", snapshot=client.snapshot.as_uri()))
    with state.sessions() as s:
        mine = s.scalars(select(OrderRow).where(OrderRow.responder_id == "patrol-1")).one()
        other = s.scalars(select(OrderRow).where(OrderRow.responder_id == "guard-near")).one()
    assert client.get(f"/api/console/orders/{mine.id}/snapshot?access_token=tok-unit").status_code == 200
    assert client.get(f"/api/console/orders/{other.id}/snapshot?access_token=tok-unit").status_code == 403
    assert client.get(f"/api/console/orders/{other.id}/snapshot", headers=H["operator"]).status_code == 200


def test_fences_save_validates_versions_and_audits(client, settings):
    cur = client.get("/api/fences", headers=H["operator"]).json()
    assert cur["version"] == 0 and len(cur["rules"]["cameras"][CAMERA]["rules"]) == 2
    schema = client.get("/api/fences/schema", headers=H["engineer"]).json()
    assert "TripwireSpec" in schema["$defs"]

    doc = cur["rules"]
    doc["cameras"][CAMERA]["rules"].append({"id": "gate", "kind": "tripwire", "line": [[0.1, 0.1], [0.1, 0.1]]})
    body = {"rules": doc, "base_version": 0}
    assert client.put("/api/fences", json=body, headers=H["operator"]).status_code == 403
    bad = client.put("/api/fences", json=body, headers=H["engineer"])
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]["errors"]] == [f"cameras.{CAMERA}.rules[2].line"]
    assert not (settings.config_dir / "versions").exists()

    doc["cameras"][CAMERA]["rules"][2]["line"] = [[0.1, 0.1], [0.1, 0.9]]
    ok = client.put("/api/fences", json={**body, "comment": "new gate line"}, headers=H["engineer"])
    assert ok.status_code == 200 and ok.json()["version"] == 1
    saved = load_model(RulesFile, settings.config_dir / "rules.yaml")
    assert [r.id for r in saved.cameras[CAMERA].rules] == ["plaza-midline", "east-road", "gate"]
    assert client.put("/api/fences", json=body, headers=H["engineer"]).status_code == 409  # stale base
    again = client.put("/api/fences", json={**body, "base_version": 1}, headers=H["engineer"])
    assert again.json()["version"] == 2
    hist = client.get("/api/fences/history", headers=H["engineer"]).json()
    assert [h["version"] for h in hist] == [2, 1] and hist[1]["comment"] == "new gate line"
    assert (settings.config_dir / "versions" / "rules.v0.yaml").read_text().startswith("# Electronic-fence")
    lines = (settings.config_dir / "versions" / "audit.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["actor"] == "engineer:erin"


def test_manual_alert_is_dispatched_with_the_frame_as_snapshot(client):
    r = client.post("/api/console/manual-alerts", json={"camera_id": CAMERA, "note": "fight"}, headers=H["operator"])
    assert r.status_code == 200 and r.json()["incident_id"]
    alert = client.get(f"/api/alerts/{r.json()['alert_id']}", headers=H["operator"]).json()
    assert alert["rule_id"] == "manual" and alert["payload"]["evidence"]["note"] == "fight"
    assert client.get(alert["snapshot_url"], headers=H["operator"]).status_code == 200
    assert client.post("/api/console/manual-alerts", json={"camera_id": "nope"}, headers=H["operator"]).status_code == 404
    assert client.post("/api/console/manual-alerts", json={"camera_id": CAMERA}, headers=H["engineer"]).status_code == 403
