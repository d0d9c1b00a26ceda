"""A running worker picks up a saved rules.yaml, and keeps its last good rules on a bad one."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import yaml

from ingest.siteconfig import load_worker_config
from ingest.worker import Worker

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 30  # an upper bound for the worker's loop to notice, not a timing assertion


def _wait(cond) -> bool:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def _rule_ids(worker: Worker) -> set[str]:
    return {s.id for s in worker.pipelines["plaza"].engine.specs}


def test_hot_reload_and_last_good_rules(tmp_path, caplog):
    cfg_dir = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", cfg_dir)
    (cfg_dir / "cameras.yaml").write_text(yaml.safe_dump({
        "detector": {"kind": "fake"},
        "cameras": [{"id": "plaza", "url": "generated://scene", "analysis_fps": 5}],
    }))
    rules_path = cfg_dir / "rules.yaml"
    good = yaml.safe_load(rules_path.read_text())
    worker = Worker(load_worker_config(cfg_dir), data_dir=tmp_path / "data",
                    bus_url=f"embedded://{tmp_path / 'bus.db'}")
    thread = threading.Thread(target=worker.run, kwargs={"duration_s": 120}, daemon=True)
    caplog.set_level(logging.INFO, logger="lookout.rules")
    thread.start()
    try:
        assert _wait(lambda: worker.frames > 0 and "plaza" in worker.pipelines)
        before = _rule_ids(worker)
        assert before == {"plaza-midline", "east-road"}

        bad = yaml.safe_load(rules_path.read_text())
        bad["cameras"]["plaza"]["rules"][1]["polygon"] = [[0, 0], [1, 1], [1, 0], [0, 1]]  # a bow tie
        rules_path.write_text(yaml.safe_dump(bad))
        assert _wait(lambda: "keeping the last good rules" in caplog.text)
        assert "rules.yaml:" in caplog.text and "polygon" in caplog.text
        assert _rule_ids(worker) == before

        good["cameras"]["plaza"]["rules"].append(
            {"id": "west-line", "kind": "tripwire", "line": [[0.25, 0.1], [0.25, 0.9]]})
        rules_path.write_text(yaml.safe_dump(good))
        assert _wait(lambda: _rule_ids(worker) == before | {"west-line"})
        assert "added" in caplog.text and "west-line" in caplog.text
    finally:
        worker.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
