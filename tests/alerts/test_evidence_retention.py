"""Retention: evidence older than retention_days goes, then the oldest beyond max_gb (file times
set with os.utime; S3 objects aged by moving `now` forward)."""

from __future__ import annotations

import os
import time

from alerts.evidence.retention import apply_retention, apply_retention_all
from alerts.evidence.store import LocalEvidenceStore, S3EvidenceStore
from tests.alerts.evidence_support import s3_cfg, s3_server  # noqa: F401  (fixtures)

DAY = 86400.0


def _write(path, size: int, age_days: float, now: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (now - age_days * DAY, now - age_days * DAY))


def test_old_clips_and_snapshots_are_deleted(tmp_path):
    now = time.time()
    store = LocalEvidenceStore(tmp_path / "evidence")
    snaps = tmp_path / "snapshots"
    _write(store.root / "clips" / "old.mp4", 100, 31, now)
    _write(store.root / "clips" / "new.mp4", 100, 29, now)
    _write(snaps / "old.jpg", 10, 45, now)
    _write(snaps / "new.jpg", 10, 1, now)
    _write(store.root / "clips" / ".new.mp4.123.tmp", 10, 90, now)  # a write in progress: not ours yet
    result = apply_retention_all(store, snaps, retention_days=30, now=now)
    assert result.deleted == 2 and result.freed_bytes == 110 and result.kept == 2
    assert sorted(p.name for p in (store.root / "clips").iterdir()) == [".new.mp4.123.tmp", "new.mp4"]
    assert [p.name for p in snaps.iterdir()] == ["new.jpg"]


def test_size_cap_removes_oldest_first(tmp_path):
    now = time.time()
    store = LocalEvidenceStore(tmp_path)
    mb = 1024 * 1024
    for i, age in enumerate([5, 1, 3, 2]):
        _write(tmp_path / "clips" / f"c{i}.mp4", mb, age, now)
    result = apply_retention(store, retention_days=30, max_gb=2.5 * mb / 1024**3, now=now)
    assert result.deleted == 2
    # the 5- and 3-day-old clips went; the two newest fit in 2.5 MB
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["c1.mp4", "c3.mp4"]


def test_retention_on_s3(tmp_path, s3_cfg):
    store = S3EvidenceStore(s3_cfg)
    src = tmp_path / "c.mp4"
    src.write_bytes(b"clip")
    store.put_file("clips/a.mp4", src)
    assert apply_retention(store, retention_days=30, prefix="clips/").deleted == 0
    later = time.time() + 31 * DAY
    result = apply_retention(store, retention_days=30, now=later, prefix="clips/")
    assert result.deleted == 1 and store.size("clips/a.mp4") is None

