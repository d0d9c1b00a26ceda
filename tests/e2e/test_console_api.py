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
from tests.e2e.test_console import CAMERA, health_events, write_site

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


# --- camera health, incident acknowledge, field reports, report counts, unit position ---

def _jpeg() -> bytes:
    import cv2
    import numpy as np

    ok, buf = cv2.imencode(".jpg", np.full((48, 64, 3), 120, np.uint8))
    assert ok
    return buf.tobytes()


def test_camera_health_comes_from_the_workers_health_records(tmp_path):
    import time

    from api.settings import Settings
    from ingest.health import StreamHealth
    from tests.api.conftest import TOKENS, wait_until

    config_dir, data_dir = tmp_path / "configs", tmp_path / "data"
    write_site(config_dir, data_dir)
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'l.db'}", bus_url=f"embedded:///{tmp_path.as_posix().lstrip('/')}/bus.db",
                        config_dir=config_dir, data_dir=data_dir, tokens=TOKENS, tick_interval_s=0.2)
    emitted: list = []
    with TestClient(create_app(settings)) as c:
        events = health_events(settings.bus_url, emitted)
        try:
            now = time.time()
            events.poll({CAMERA: StreamHealth(CAMERA, "live", fps_in=12.5, frames=300, last_frame_at=now - 0.2),
                         "cam-2": StreamHealth("cam-2", "stalled", last_frame_at=now - 8, reconnects=2)}, now)

            def rows():
                return {r["id"]: r for r in c.get("/api/console/camera-health", headers=H["engineer"]).json()}
            wait_until(lambda: rows()["cam-2"]["report"] is not None, 10, "health records through the bus")
            got = rows()
            assert got[CAMERA]["health"] == "live" and got[CAMERA]["report"]["fps_in"] == 12.5
            assert got["cam-2"]["health"] == "stalled" and got["cam-2"]["report"]["reconnects"] == 2
            assert abs(got["cam-2"]["last_seen"] - (now - 8)) < 0.01
            assert "url" not in got[CAMERA]
            # Ten seconds later cam-2 is still not live: "lost" after lost_after_s, and the worker's alert.
            events.poll({CAMERA: StreamHealth(CAMERA, "live", last_frame_at=now + 9.9),
                         "cam-2": StreamHealth("cam-2", "lost", last_frame_at=now - 8)}, now + 10)
            wait_until(lambda: rows()["cam-2"]["health"] == "lost", 10, "cam-2 lost")
            assert emitted and emitted[0].rule.kind == "camera_health"
        finally:
            events.stop()
        board = c.app.state.health_board
        assert board.update({"camera_id": "cam-9", "at": "x", "state": "live"}) is False  # malformed: ignored
    from api.console_health import shown_state
    assert shown_state({"at": 0.0, "state": "live"}, None, 100.0) == "silent"
    assert shown_state(None, 3.0, 100.0) == "live" and shown_state(None, 30.0, 100.0) == "stale"
    assert shown_state(None, None, 100.0) == "none"


def test_incident_acknowledge_is_kept_on_the_server(client):
    state = client.app.state
    inc = state.engine.handle_alert(make_alert(severity="high"))
    assert client.post(f"/api/console/incidents/{inc}/acknowledge", headers=H["engineer"]).status_code == 403
    first = client.post(f"/api/console/incidents/{inc}/acknowledge", headers=H["operator"])
    assert first.status_code == 200 and first.json()["by"] == "operator:alice"
    again = client.post(f"/api/console/incidents/{inc}/acknowledge", headers=H["operator"]).json()
    assert again == first.json()  # the first acknowledge stands
    assert client.get("/api/console/incident-acks", headers=H["engineer"]).json() == [first.json()]
    assert client.post("/api/console/incidents/999/acknowledge", headers=H["operator"]).status_code == 404
    # False alarm = stand-down: the incident leaves the open set (and its acknowledge with it).
    r = client.post(f"/api/incidents/{inc}/stand-down", json={"reason": "false alarm"}, headers=H["operator"])
    assert r.status_code == 200 and r.json()["status"] == "stood_down"
    assert client.get("/api/console/incident-acks", headers=H["operator"]).json() == []
    inc2 = state.engine.handle_alert(make_alert(severity="high", source="cam-2", observed=1_800_000_100.0))
    client.post(f"/api/incidents/{inc2}/stand-down", json={"reason": "false alarm"}, headers=H["operator"])
    assert client.post(f"/api/console/incidents/{inc2}/acknowledge", headers=H["operator"]).status_code == 409


def test_unit_field_report_with_photo(client, settings):
    state = client.app.state
    inc = state.engine.handle_alert(make_alert(severity="high"))
    with state.sessions() as s:
        mine = s.scalars(select(OrderRow).where(OrderRow.responder_id == "patrol-1")).one().id
        other = s.scalars(select(OrderRow).where(OrderRow.responder_id == "guard-near")).one().id
    jpeg = _jpeg()
    url = f"/api/console/orders/{mine}/report"
    r = client.post(url, data={"note": "gate closed again"}, files={"photo": ("IMG 1.jpg", jpeg, "image/jpeg")},
                    headers=H["unit"])
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["note"] == "gate closed again" and rep["responder_id"] == "patrol-1" and rep["incident_id"] == inc
    photo = client.get(rep["photo_url"] + "?access_token=tok-operator")
    assert photo.status_code == 200 and photo.content == jpeg and photo.headers["content-type"] == "image/jpeg"
    assert client.get(rep["photo_url"], headers=H["guard"]).status_code == 403  # another unit's order
    stored = list((settings.data_dir / "field-reports" / f"order-{mine}").iterdir())
    assert [p.name for p in stored] == [rep["photo_url"].rsplit("/", 1)[1]]  # server-chosen name, no temp left
    # Refused: another unit's order, not an image (whatever the browser claims), too large, empty.
    assert client.post(f"/api/console/orders/{other}/report", data={"note": "x"}, headers=H["unit"]).status_code == 403
    fake = client.post(url, files={"photo": ("x.jpg", b"<svg onload=alert(1)>", "image/jpeg")}, headers=H["unit"])
    assert fake.status_code == 415
    big = client.post(url, files={"photo": ("x.jpg", b"\xff\xd8\xff" + b"0" * (8 * 1024 * 1024), "image/jpeg")},
                      headers=H["unit"])
    assert big.status_code == 413
    assert client.post(url, data={"note": "  "}, headers=H["unit"]).status_code == 422
    assert client.get(f"/api/console/orders/{mine}/photos/..%2F..%2Fa1.jpg", headers=H["operator"]).status_code == 404
    listed = client.get(f"/api/console/incidents/{inc}/reports", headers=H["operator"]).json()
    assert [x["note"] for x in listed] == ["gate closed again"]
    assert client.get(f"/api/console/incidents/{inc}/reports", headers=H["unit"]).status_code == 403


def test_alert_counts_per_rule_and_camera_and_unit_position(client):
    state = client.app.state
    state.engine.handle_alert(make_alert(severity="high"))
    state.engine.handle_alert(make_alert(severity="low", track=2))
    state.engine.handle_alert(make_alert(severity="high", source="cam-2", zone="road", observed=1_800_000_050.0))
    counts = client.get("/api/console/reports/alert-counts", headers=H["engineer"]).json()
    assert counts["total"] == 3
    assert counts["by_rule"] == [{"key": "fence-1", "count": 3,
                                  "by_severity": {"low": 1, "medium": 0, "high": 2, "critical": 0}}]
    assert [(r["key"], r["count"]) for r in counts["by_camera"]] == [(CAMERA, 2), ("cam-2", 1)]
    future = client.get("/api/console/reports/alert-counts?since=99999999999", headers=H["operator"]).json()
    assert future["total"] == 0
    pos = client.get("/api/console/units/patrol-1/position", headers=H["unit"]).json()
    assert pos["post"]["lat"] > 31.23 and pos["position"] is None
    assert client.get("/api/console/units/guard-near/position", headers=H["unit"]).status_code == 403
