"""Static camera assignment: each camera is decoded by exactly one worker."""

from pathlib import Path

import pytest

from alerts.site import SiteFile
from ingest.config import CamerasFile
from ingest.siteconfig import WorkerConfig
from ingest.worker import Worker
from rules.config import RulesFile


def _worker(worker_id=None, camera_ids=None) -> Worker:
    cams = CamerasFile.model_validate({"cameras": [
        {"id": "gate", "url": "generated://scene", "worker": "edge-1"},
        {"id": "yard", "url": "generated://scene", "worker": "edge-2"},
        {"id": "lobby", "url": "generated://scene"},
        {"id": "roof", "url": "generated://scene", "worker": "edge-1", "enabled": False},
    ]})
    cfg = WorkerConfig(Path("."), SiteFile.model_validate({"site": {"id": "t", "name": "t"}}), cams, RulesFile(cameras={}))
    return Worker(cfg, data_dir=Path("unused"), bus_url="embedded:///unused.db", worker_id=worker_id, camera_ids=camera_ids)


def test_each_worker_takes_only_its_cameras():
    assert [c.id for c in _worker("edge-1").cameras] == ["gate"]
    assert [c.id for c in _worker("edge-2").cameras] == ["yard"]
    assert [c.id for c in _worker(None).cameras] == ["lobby"]
    assert _worker("edge-3").cameras == []


def test_asking_for_another_workers_camera_is_an_error():
    with pytest.raises(KeyError, match="yard"):
        _worker("edge-1", camera_ids=["yard"])
