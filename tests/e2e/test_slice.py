"""The vertical slice, end to end, over real connections and separate processes.

A real RTSP server (GStreamer) serves a recording in which people cross a tripwire; `lookout
worker` decodes it, detects, tracks and fires the fence rules onto a real Kafka-protocol broker
(Tansu); `lookout api` consumes the alert topic and pushes an order over SSE to this test, which
acknowledges it like a patrol unit; the order is `acknowledged` in the database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

from api.unitsim import parse_sse
from tests.support.rtsp_server import RtspServer
from tests.support.tansu import TansuBroker, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(360)]

ROOT = Path(__file__).resolve().parents[2]
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
MODEL = ROOT / "models" / "yolox_nano.onnx"
UNIT = "patrol-1"


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> tuple[Path, dict]:
    """An H.264 file for the RTSP server and the detector settings that suit it."""
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is missing: scripts/setup.sh --test installs it")
    out = tmp_path_factory.mktemp("scene") / "scene.mp4"
    if VTEST.exists() and MODEL.exists():
        source, detector = VTEST, {"kind": "yolox-onnx", "model_path": str(MODEL), "min_score": 0.6}
    else:
        # Outside this workplace (no weights) the generated scene and the marker detector stand in.
        from ingest.generated import write_generated_video

        source = out.with_name("generated.mp4")
        write_generated_video(source, 60, 10)
        detector = {"kind": "fake"}
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(source), "-c:v", "libx264", "-preset",
                    "ultrafast", "-tune", "zerolatency", "-g", "10", "-pix_fmt", "yuv420p", str(out)], check=True)
    return out, detector


def _site(tmp_path: Path, rtsp_url: str, detector: dict) -> Path:
    cfg = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", cfg)
    cameras = {
        "detector": detector,
        "cameras": [{"id": "plaza", "name": "Plaza over RTSP", "url": rtsp_url, "analysis_fps": 5,
                     "location": {"lat": 31.2304, "lon": 121.4737}}],
    }
    (cfg / "cameras.yaml").write_text(yaml.safe_dump(cameras))
    return cfg


def _lookout(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ingest.cli", *args], env=env, cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_camera_to_acknowledged_dispatch(tmp_path, scene):
    video, detector = scene
    operator, unit_token = "op-token-e2e", "unit-token-e2e"
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    db_path = tmp_path / "lookout.db"
    with RtspServer(file=video) as rtsp, TansuBroker() as broker:
        cfg = _site(tmp_path, rtsp.url, detector)
        env = dict(os.environ, COLUMNS="200",
                   LOOKOUT_TOKENS=json.dumps({operator: {"role": "operator", "subject": "e2e"},
                                              unit_token: {"role": "unit", "subject": UNIT}}),
                   LOOKOUT_CONFIG_DIR=str(cfg), LOOKOUT_DATA_DIR=str(tmp_path / "data"),
                   LOOKOUT_DB_URL=f"sqlite:///{db_path}", LOOKOUT_BUS_URL=broker.url)
        api = _lookout(["api", "--port", str(port)], env, tmp_path / "api.log")
        worker = _lookout(["worker", "--config", str(cfg)], env, tmp_path / "worker.log")
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert api.poll() is None, (tmp_path / "api.log").read_text()[-3000:]
                try:
                    if httpx.get(f"{api_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            order = None
            headers = {"Authorization": f"Bearer {unit_token}"}
            with httpx.stream("GET", f"{api_url}/api/units/{UNIT}/stream", headers=headers,
                              timeout=httpx.Timeout(10, read=150)) as stream:
                for event, data in parse_sse(stream.iter_lines()):
                    payload = json.loads(data)
                    if event == "order" and payload["order"]["responder_id"] == UNIT:
                        order = payload["order"]
                        break
            assert order is not None, (tmp_path / "worker.log").read_text()[-3000:]
            ack = httpx.post(f"{api_url}/api/orders/{order['id']}/acknowledge", headers=headers, timeout=10)
            assert ack.status_code == 200, ack.text

            engine = sa.create_engine(f"sqlite:///{db_path}")
            with engine.connect() as conn:
                state = conn.execute(sa.text("select state from orders where id = :id"), {"id": order["id"]}).scalar_one()
                alert_ids = conn.execute(sa.text("select alert_id from alerts")).scalars().all()
            assert state == "acknowledged"
            assert alert_ids, "the dispatcher stored the alert it dispatched"
            # The worker's outbox holds the same alerts, with snapshots on disk.
            snapshots = list((tmp_path / "data" / "snapshots").glob("*.jpg"))
            assert snapshots and {p.stem for p in snapshots} >= set(alert_ids[:1])
            # The operator sees the alert with its snapshot over the API.
            first = httpx.get(f"{api_url}/api/alerts/{alert_ids[0]}/snapshot",
                              headers={"Authorization": f"Bearer {operator}"}, timeout=10)
            assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
        finally:
            _stop(worker)
            _stop(api)
