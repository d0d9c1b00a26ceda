"""Fence editor "Try on recording": the API runs the real `lookout replay` in a subprocess on a
6 s generated clip (ingest.generated's walkers, the marker detector) with the editor's unsaved rules.

Walker 0 crosses x = 0.5 left to right at ~3.4 s and walker 1 right to left at ~5.2 s (analysis at
5 fps; tests/workbench/conftest.py), so a tripwire down the middle fires twice; walkers move
horizontally, so a horizontal line near the top is crossed by nobody.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.replay_jobs import ReplayJobs
from api.settings import Settings
from ingest.generated import write_generated_video
from tests.api.conftest import TOKENS, write_configs

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
ENG = {"Authorization": "Bearer tok-engineer"}
OPS = {"Authorization": "Bearer tok-operator"}
ON_PATH = {"id": "midline", "kind": "tripwire", "line": [[0.5, 0.05], [0.5, 0.95]], "direction": "both"}
OFF_PATH = {"id": "top-edge", "kind": "tripwire", "line": [[0.05, 0.1], [0.95, 0.1]], "direction": "both"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_generated_video(tmp_path_factory.mktemp("clip") / "yard.mp4", seconds=6, fps=10)


def make_site(cfg: Path, clip: Path) -> None:
    write_configs(cfg)
    shutil.copy(ROOT / "configs" / "site.yaml", cfg / "site.yaml")
    # `yard` is a file camera (its own clip is its recording); `gate` streams, its clip is in recordings/.
    (cfg / "cameras.yaml").write_text(
        "detector: {kind: fake}\n"
        "cameras:\n"
        f"  - {{id: yard, url: {clip}, analysis_fps: 5}}\n"
        "  - {id: gate, url: 'rtsp://user:secret@10.0.0.9/stream', analysis_fps: 5}\n")
    (cfg / "rules.yaml").write_text("cameras:\n  yard:\n    rules: []\n")
    (cfg / "recordings" / "gate").mkdir(parents=True)
    shutil.copy(clip, cfg / "recordings" / "gate" / "night.mp4")


@pytest.fixture
def client(tmp_path, clip):
    cfg = tmp_path / "configs"
    make_site(cfg, clip)
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'lookout.db'}", config_dir=cfg, data_dir=tmp_path / "data",
                        bus_url=f"embedded:///{tmp_path.as_posix().lstrip('/')}/bus.db", tokens=TOKENS,
                        dispatcher_enabled=False, replay_timeout_s=90)
    app = create_app(settings, start_background=False)
    with TestClient(app) as c:
        yield c
        if getattr(app.state, "replay_jobs", None) is not None:
            app.state.replay_jobs.close()


def wait_done(client, job_id: str, timeout: float = 100.0) -> dict:
    end = time.monotonic() + timeout
    while True:
        r = client.get(f"/api/console/replay/{job_id}", headers=OPS)  # operators may look
        assert r.status_code == 200, r.text
        job = r.json()
        if job["state"] not in ("queued", "running"):
            return job
        assert time.monotonic() < end, f"replay still {job['state']} after {timeout} s"
        time.sleep(0.3)


def test_tripwire_on_the_walkers_path_fires_and_one_off_it_does_not(client):
    recs = client.get("/api/console/replay/recordings?camera=yard", headers=ENG).json()
    assert recs == [{"id": "camera", "name": "yard.mp4", "source": "camera", "size_bytes": recs[0]["size_bytes"]}]
    r = client.post("/api/console/replay", headers=ENG, json={"camera": "yard", "rules": [ON_PATH, OFF_PATH]})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["job_id"])
    assert job["state"] == "done", job
    assert job["actor"] == "engineer:erin" and job["recording"]["id"] == "camera"
    result = job["result"]
    rules = {x["rule"]: x for x in result["rules"]}
    assert rules["midline"]["count"] == 2 and rules["midline"]["kind"] == "tripwire"
    assert 3.0 <= rules["midline"]["first_s"] <= 3.8 and 4.8 <= rules["midline"]["last_s"] <= 5.6
    assert rules["top-edge"] == {"rule": "top-edge", "kind": "tripwire", "count": 0, "first_s": None,
                                 "last_s": None, "first_event": None}
    assert [(e["rule"], e["direction"]) for e in result["events"]] == [("midline", "b_to_a"), ("midline", "a_to_b")]
    # Against the saved version (no rules for yard): both crossings are new.
    assert result["compare"]["saved_version"] == 0
    assert (result["compare"]["appeared"], result["compare"]["disappeared"]) == (2, 0)
    snap = client.get(f"/api/console/replay/{job['job_id']}/snapshot/{rules['midline']['first_event']}", headers=ENG)
    assert snap.status_code == 200 and snap.headers["content-type"] == "image/jpeg" and snap.content[:2] == b"\xff\xd8"
    token_img = client.get(f"/api/console/replay/{job['job_id']}/snapshot/0?access_token=tok-operator")
    assert token_img.status_code == 200  # <img src> carries the token in the query
    assert client.get(f"/api/console/replay/{job['job_id']}/snapshot/2", headers=ENG).status_code == 404


def test_recordings_folder_serves_a_streaming_camera(client):
    recs = client.get("/api/console/replay/recordings?camera=gate", headers=OPS).json()
    assert [(x["id"], x["source"]) for x in recs] == [("gate/night.mp4", "recordings")]
    assert "secret" not in str(recs) and "/" not in recs[0]["name"].removeprefix("gate/")
    r = client.post("/api/console/replay", headers=ENG, json={"camera": "gate", "rules": [OFF_PATH],
                                                                "recording": "../yard.mp4"})
    assert r.status_code == 404 and "unknown recording" in r.json()["detail"]


def test_bad_camera_and_invalid_rules_are_refused_before_anything_runs(client):
    r = client.post("/api/console/replay", headers=ENG, json={"camera": "nope", "rules": [ON_PATH]})
    assert r.status_code == 404 and "unknown camera 'nope'" in r.json()["detail"]
    r = client.post("/api/console/replay", headers=ENG, json={"camera": "../etc", "rules": [ON_PATH]})
    assert r.status_code == 422
    assert client.get("/api/console/replay/recordings?camera=nope", headers=ENG).status_code == 404
    bad = {**ON_PATH, "line": [[0.5, 0.5]]}
    r = client.post("/api/console/replay", headers=ENG, json={"camera": "yard", "rules": [OFF_PATH, bad]})
    assert r.status_code == 422
    errors = r.json()["detail"]["errors"]
    assert any(e["loc"] == "cameras.yard.rules[1].line" for e in errors), errors
    # Operators see the editor read-only: they may not start replays.
    assert client.post("/api/console/replay", headers=OPS, json={"camera": "yard", "rules": []}).status_code == 403
    assert client.get("/api/console/replay/0123456789abcdef", headers=ENG).status_code == 404


def test_a_failing_replay_reports_its_stderr_tail(client, tmp_path):
    (tmp_path / "configs" / "site.yaml").unlink()  # the replay's own config check fails, exit 2
    r = client.post("/api/console/replay", headers=ENG, json={"camera": "yard", "rules": [ON_PATH]})
    job = wait_done(client, r.json()["job_id"])
    assert job["state"] == "failed" and "exited with 2" in job["error"]
    assert "site.yaml" in job["stderr_tail"], job["stderr_tail"]


def test_a_replay_past_its_timeout_is_killed(tmp_path, clip):
    cfg = tmp_path / "configs"
    make_site(cfg, clip)
    jobs = ReplayJobs(cfg, timeout_s=0.2)
    try:
        job = jobs.submit("yard", [ON_PATH], actor="test")
        end = time.monotonic() + 30
        while job.state in ("queued", "running") and time.monotonic() < end:
            time.sleep(0.05)
        assert job.state == "timeout" and "past 0.2 s" in (job.error or "")
        assert job.proc is None  # killed and reaped
    finally:
        jobs.close()
    assert not job.dir.exists()  # close() removes the job's files
