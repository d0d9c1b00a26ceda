"""EvidenceRecorder: a playable H.264 MP4 of about pre+post seconds per alert, never blocking."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest

from alerts.evidence.config import EvidenceConfig
from alerts.evidence.store import LocalEvidenceStore
from alerts.model import Alert, AlertObject, RuleRef, Source, make_alert_id
from detectors.detections import Detections
from ingest.evidence_recorder import EvidenceRecorder

FPS = 10
W, H = 1280, 720  # wider than max_width, so the buffer scales frames down


def _alert(t: float, camera: str = "cam-1", track_id: int = 7) -> Alert:
    at = datetime.fromtimestamp(1_790_000_000 + t, tz=timezone.utc)
    return Alert(alert_id=make_alert_id("s", camera, "yard", track_id, 1_790_000_000 + t), site="s",
                 source=Source(kind="camera", id=camera), rule=RuleRef(id="yard", kind="intrusion", severity="high"),
                 started_at=at, observed_at=at, emitted_at=at,
                 objects=[AlertObject(track_id=track_id, label="person", confidence=0.9, bbox=(0, 0, 1, 1))])


def _frame(i: int) -> tuple[np.ndarray, Detections]:
    img = np.full((H, W, 3), 60, np.uint8)
    x = 50 + 10 * i
    cv2.rectangle(img, (x, 300), (x + 60, 460), (200, 200, 200), cv2.FILLED)
    cv2.putText(img, str(i), (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    dets = Detections(np.array([[x, 300, x + 60, 460], [900, 100, 960, 260]], np.float32),
                      np.array([0.9, 0.8]), np.array([0, 0]), np.array([7, 8]))
    return img, dets


def _play(rec: EvidenceRecorder, cam: str, frames: range, alert_at: int | None = None) -> list[Alert]:
    out = []
    for i in frames:
        img, dets = _frame(i)
        rec.offer(cam, i / FPS, img, dets)
        if i == alert_at:
            out.append(rec.attach(_alert(i / FPS, cam), t=i / FPS,
                                  shapes=[("yard", np.array([[600, 200], [1200, 200], [1200, 700], [600, 700]]), True)]))
        time.sleep(0.002)  # a live loop leaves the buffer thread time; drops are counted, not failures
    return out


def _count_frames(path) -> tuple[int, str, tuple[int, int]]:
    cap = cv2.VideoCapture(str(path))
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode(errors="replace")
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n, fourcc, size


@pytest.fixture
def recorder(tmp_path):
    rec = EvidenceRecorder(EvidenceConfig(pre_s=5, post_s=5), LocalEvidenceStore(tmp_path / "evidence")).start()
    yield rec
    rec.close()


def test_clip_covers_pre_and_post_seconds_and_plays(recorder, tmp_path):
    [alert] = _play(recorder, "cam-1", range(0, 80), alert_at=70)
    # The alert carries its clip's URI at once; the file does not exist yet (post-buffer running).
    assert alert.clip is not None and alert.clip.uri == f"evidence://clips/{alert.alert_id}.mp4"
    path = tmp_path / "evidence" / "clips" / f"{alert.alert_id}.mp4"
    assert not path.exists()
    assert alert.clip.track_id == 7 and alert.clip.track
    assert alert.clip.track[-1].t == 0 and alert.clip.track[0].t >= -5.0 - 1e-6
    assert alert.clip.track[-1].x == pytest.approx(50 + 700 + 30)  # bottom centre, full-frame pixels
    _play(recorder, "cam-1", range(80, 130))
    assert recorder.wait_idle(30)
    assert recorder.stats.clips_written == 1 and recorder.stats.clips_failed == 0
    n, fourcc, size = _count_frames(path)
    expected = (5 + 5) * FPS + 1 - recorder.stats.dropped
    assert expected - 3 <= n <= (5 + 5) * FPS + 1, (n, recorder.stats)
    assert fourcc.lower() in ("avc1", "h264")
    assert size[0] == 960  # scaled to max_width


def test_clip_shows_the_track_in_red(recorder, tmp_path):
    [alert] = _play(recorder, "cam-1", range(0, 30), alert_at=25)
    _play(recorder, "cam-1", range(30, 90))
    assert recorder.wait_idle(30)
    cap = cv2.VideoCapture(str(tmp_path / "evidence" / "clips" / f"{alert.alert_id}.mp4"))
    ok, img = cap.read()
    last = img
    while ok:
        last = img
        ok, img = cap.read()
    red = (last[:, :, 2] > 180) & (last[:, :, 1] < 80) & (last[:, :, 0] < 80)
    assert red.sum() > 500  # box and trail of track 7 (H.264 blurs edges; a count, not exact pixels)


def test_stalled_stream_and_close_still_write_the_clip(tmp_path):
    rec = EvidenceRecorder(EvidenceConfig(pre_s=2, post_s=5), LocalEvidenceStore(tmp_path)).start()
    [alert] = _play(rec, "cam-2", range(0, 25), alert_at=24)
    rec.close()  # the camera went away before the post-buffer filled
    n, _, _ = _count_frames(tmp_path / "clips" / f"{alert.alert_id}.mp4")
    assert 15 <= n <= 21


def test_offer_never_blocks_and_counts_drops(tmp_path):
    rec = EvidenceRecorder(EvidenceConfig(), LocalEvidenceStore(tmp_path), queue_frames=4)  # thread not started
    img, dets = _frame(0)
    started = time.perf_counter()
    for i in range(50):
        rec.offer("cam-1", i / FPS, img, dets)
    per_frame = (time.perf_counter() - started) / 50
    assert rec.stats.dropped == 46
    assert per_frame < 0.05  # a scale-down and a queue put (~2-3 ms for 1280x720 here)


def test_follow_ups_of_one_alert_share_one_clip(recorder):
    first = _play(recorder, "cam-1", range(0, 12), alert_at=11)[0]
    again = recorder.attach(first.model_copy(update={"lifecycle": "update", "sequence": 1, "clip": None}), t=2.0)
    assert again.clip == first.clip
    assert recorder.stats.clips_pending == 1
    # an update of an alert the recorder never saw start gets no clip, and records none
    stranger = _alert(3.0, "cam-1", track_id=99).model_copy(update={"lifecycle": "end", "sequence": 2})
    assert recorder.attach(stranger, t=3.0).clip is None
    assert recorder.stats.clips_pending == 1


def test_worker_attaches_clips_and_writes_them(tmp_path):
    """The real worker loop on the generated scene: every alert in the outbox names its clip, and
    the clips exist (and play) once the worker has stopped."""
    import shutil
    import sqlite3
    import threading
    from pathlib import Path

    import yaml

    from ingest.siteconfig import load_worker_config
    from ingest.worker import Worker

    root = Path(__file__).resolve().parents[2]
    cfg_dir = tmp_path / "configs"
    shutil.copytree(root / "configs", cfg_dir)
    (cfg_dir / "cameras.yaml").write_text(yaml.safe_dump({
        "detector": {"kind": "fake"},
        "cameras": [{"id": "plaza", "url": "generated://scene", "analysis_fps": 5}],
    }))
    site = yaml.safe_load((cfg_dir / "site.yaml").read_text())
    site["evidence"] = {"pre_s": 2, "post_s": 2}
    (cfg_dir / "site.yaml").write_text(yaml.safe_dump(site))
    data = tmp_path / "data"
    worker = Worker(load_worker_config(cfg_dir), data_dir=data, bus_url=f"embedded://{tmp_path / 'bus.db'}")
    thread = threading.Thread(target=worker.run, kwargs={"duration_s": 60}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while worker.alerts == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    worker.stop()
    thread.join(timeout=60)
    assert not thread.is_alive() and worker.alerts > 0
    with sqlite3.connect(data / "outbox.db") as db:
        alerts = [Alert.from_json(v) for (v,) in db.execute("SELECT value FROM outbox WHERE topic = 'lookout.alerts.v1'")]
    # fence-rule alerts only: camera-health alerts (stream lost under load) have no clip
    alerts = [a for a in alerts if a.rule.id in {"plaza-midline", "east-road"}]
    assert alerts and all(a.clip is not None for a in alerts)
    for a in alerts:
        assert a.clip.uri == f"evidence://clips/{a.alert_id}.mp4"
        n, fourcc, _ = _count_frames(data / "evidence" / "clips" / f"{a.alert_id}.mp4")
        assert n >= 3 and fourcc.lower() in ("avc1", "h264")
