"""Retention: delete evidence (clips, snapshots) older than `retention_days`, and for local
folders the oldest files beyond `max_gb`. The worker runs it every `retention_every_s`.

Age is the file's (object's) modification time, i.e. when the evidence was written.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from alerts.evidence.store import EvidenceStore, LocalEvidenceStore, StoredObject

log = logging.getLogger("lookout.evidence")


@dataclass
class RetentionResult:
    deleted: int = 0
    freed_bytes: int = 0
    kept: int = 0

    def add(self, other: "RetentionResult") -> "RetentionResult":
        return RetentionResult(self.deleted + other.deleted, self.freed_bytes + other.freed_bytes,
                               self.kept + other.kept)


def apply_retention(store: EvidenceStore, *, retention_days: float, max_gb: float | None = None,
                    now: float | None = None, prefix: str = "") -> RetentionResult:
    """Delete objects of `store` under `prefix` older than `retention_days`; then, if `max_gb`
    is set, the oldest remaining ones until the total fits."""
    now = time.time() if now is None else now
    cutoff = now - retention_days * 86400
    result = RetentionResult()
    keep: list[StoredObject] = []
    for obj in store.list(prefix):
        if obj.mtime < cutoff:
            store.delete(obj.key)
            result.deleted += 1
            result.freed_bytes += obj.size
        else:
            keep.append(obj)
    if max_gb is not None:
        budget = int(max_gb * 1024**3)
        total = sum(o.size for o in keep)
        keep.sort(key=lambda o: o.mtime)  # oldest first
        while keep and total > budget:
            obj = keep.pop(0)
            store.delete(obj.key)
            total -= obj.size
            result.deleted += 1
            result.freed_bytes += obj.size
    result.kept = len(keep)
    return result


def apply_retention_all(store: EvidenceStore, snapshots_dir: Path | None, *, retention_days: float,
                        max_gb: float | None = None, now: float | None = None) -> RetentionResult:
    """Clips in the evidence store and the worker's snapshot folder (always local)."""
    result = apply_retention(store, retention_days=retention_days, max_gb=max_gb, now=now, prefix="clips/")
    if snapshots_dir is not None:
        snaps = LocalEvidenceStore(snapshots_dir)
        result = result.add(apply_retention(snaps, retention_days=retention_days, max_gb=max_gb, now=now))
    if result.deleted:
        log.info("retention: deleted %d evidence file(s), %.1f MB", result.deleted, result.freed_bytes / 1e6)
    return result
