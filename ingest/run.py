"""`lookout run`: the whole system on one machine with embedded defaults.

The API (with its dispatcher) and a simulated patrol unit run as child processes started through
the `lookout` command, and the worker runs here; they talk only over the embedded bus and HTTP,
exactly as they would on separate machines.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from rules.configfile import read_yaml

from ingest.siteconfig import WorkerConfig, load_worker_config
from ingest.worker import Worker

log = logging.getLogger("lookout.run")

DEMO_UNIT = "patrol-1"


def _with_input_fallback(cfg: WorkerConfig) -> WorkerConfig:
    """A camera whose recording is missing switches to the generated scene, and says so."""
    cams = []
    for cam in cfg.cameras.cameras:
        url = cam.url
        is_file = "://" not in url
        if is_file and not (cfg.base_dir / url).exists() and not Path(url).exists():
            log.warning("camera %s: %s not found; using generated://scene with the marker detector "
                        "(install Debian's opencv-doc for the real PETS09 recording)", cam.id, url)
            detector = (cam.detector or cfg.cameras.detector).model_copy(update={"kind": "fake"})
            cam = cam.model_copy(update={"url": "generated://scene", "detector": detector})
        elif is_file:
            log.info("camera %s: input is the recording %s", cam.id, url)
        cams.append(cam)
    cameras = cfg.cameras.model_copy(update={"cameras": cams})
    return WorkerConfig(cfg.base_dir, cfg.site, cameras, cfg.rules)


def _unit_ids(config_dir: Path) -> list[str]:
    # Read as plain YAML: the api package owns the model, and ingest never imports api.
    tree = read_yaml(config_dir / "responders.yaml") or {}
    return [str(r["id"]) for r in tree.get("responders", []) if isinstance(r, dict) and "id" in r]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API process exited with code {proc.returncode}; see its log above")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer {url}/healthz within {timeout:.0f} s")


def _summary(url: str, token: str) -> dict[str, int]:
    try:
        orders = httpx.get(f"{url}/api/orders", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return {}
    states: dict[str, int] = {}
    for order in orders:
        states[order["state"]] = states.get(order["state"], 0) + 1
    return states


def run_all(config_dir: Path, data_dir: Path, *, port: int = 8080, duration: float | None = None,
            bus_url: str | None = None, db_url: str | None = None) -> int:
    config_dir, data_dir = Path(config_dir).resolve(), Path(data_dir).resolve()
    cfg = _with_input_fallback(load_worker_config(config_dir))
    data_dir.mkdir(parents=True, exist_ok=True)
    bus_url = bus_url or f"embedded://{data_dir / 'bus.db'}"
    db_url = db_url or f"sqlite:///{data_dir / 'lookout.db'}"
    operator_token = secrets.token_urlsafe(16)
    tokens = {operator_token: {"role": "operator", "subject": "demo-operator"}}
    unit_tokens = {}
    for unit in _unit_ids(config_dir):
        unit_tokens[unit] = secrets.token_urlsafe(16)
        tokens[unit_tokens[unit]] = {"role": "unit", "subject": unit}
    import json

    env = dict(os.environ, LOOKOUT_TOKENS=json.dumps(tokens), LOOKOUT_DATA_DIR=str(data_dir),
               LOOKOUT_CONFIG_DIR=str(config_dir), LOOKOUT_DB_URL=db_url, LOOKOUT_BUS_URL=bus_url)
    url = f"http://127.0.0.1:{port}"
    lookout = [sys.executable, "-m", "ingest.cli"]
    children: list[subprocess.Popen] = []
    try:
        api = subprocess.Popen([*lookout, "api", "--port", str(port)], env=env)
        children.append(api)
        _wait_healthy(url, api)
        if DEMO_UNIT in unit_tokens:
            children.append(subprocess.Popen(
                [*lookout, "unit-sim", "--unit-id", DEMO_UNIT, "--token", unit_tokens[DEMO_UNIT], "--url", url,
                 # The whole loop: en route at once, on scene after 15 s, resolved 20 s later, so
                 # the unit is free again for the next incident.
                 "--arrive-after", "15", "--resolve-after", "20"],
                env=env))
        log.info("console: %s/#token=%s  (operator token; unit tokens are in LOOKOUT_TOKENS of the API process)",
                 url, operator_token)
        from ingest.settings import WorkerSettings, apply_opencv_threads

        apply_opencv_threads(WorkerSettings().opencv_threads)
        worker = Worker(cfg, data_dir=data_dir, bus_url=bus_url)
        try:
            report = worker.run(duration_s=duration)
        except KeyboardInterrupt:
            worker.stop()
            return 0
        time.sleep(3 if duration else 0)  # let the last alert reach the unit before the summary
        states = _summary(url, operator_token)
        log.info("worker: %d frames, %d alerts, detector %s; orders by state: %s",
                 report.frames, report.alerts, ", ".join(report.detectors), states or "none")
        return 0
    finally:
        for proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in reversed(children):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
