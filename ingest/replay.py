"""`lookout replay`: run a camera's detection and fence rules on a recording, as fast as it goes.

Writes `events.jsonl` (one Alert v1 per line, with `media_time`), annotated snapshots and a
per-rule summary. The interface is stable: engineers and our accuracy benchmarks depend on it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from alerts.snapshot import SnapshotStore

from ingest.assembly import DetectorCache, build_pipeline
from ingest.siteconfig import WorkerConfig
from ingest.sources import open_source


@dataclass
class ReplayResult:
    frames: int
    events: int
    events_by_rule: dict[str, int]
    first_last_by_rule: dict[str, tuple[float, float]]
    detector: str
    seconds: float
    events_path: Path


def replay(
    video: Path,
    cfg: WorkerConfig,
    out: Path,
    *,
    camera_id: str | None = None,
    analysis_fps: float | None = None,
    clock_origin: float | None = None,
    progress: bool = True,
) -> ReplayResult:
    import time

    video = Path(video)
    if not video.exists():
        raise FileNotFoundError(f"video not found: {video}")
    cams = {c.id: c for c in cfg.cameras.cameras}
    if camera_id is None:
        camera_id = next(iter(cams))
    if camera_id not in cams:
        raise KeyError(f"unknown camera {camera_id!r}; cameras.yaml defines: {', '.join(cams)}")
    updates = {"url": str(video.resolve()), "loop": False, "realtime": False}
    if analysis_fps:
        updates["analysis_fps"] = analysis_fps
    camera = cams[camera_id].model_copy(update=updates)
    # The file's modification time anchors its clock, so replaying the same file twice gives
    # the same alert ids (deduped downstream) and plausible timestamps.
    origin = os.stat(video).st_mtime if clock_origin is None else clock_origin

    out.mkdir(parents=True, exist_ok=True)
    snapshots = SnapshotStore(out / "snapshots")
    pipeline = build_pipeline(cfg, camera, DetectorCache(cfg.base_dir), snapshots, clock_origin=origin)
    total = int(cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT)) or None
    native_fps = cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FPS) or camera.analysis_fps
    expected = int(total * min(1.0, camera.analysis_fps / native_fps)) if total else None

    events_path = out / "events.jsonl"
    first_last: dict[str, tuple[float, float]] = {}
    started = time.perf_counter()
    source = open_source(camera, base_dir=cfg.base_dir)
    with events_path.open("w") as sink, Progress(
        TextColumn("[bold]replay[/] {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(), disable=not progress,
    ) as bar:
        task = bar.add_task(video.name, total=expected)
        try:
            for frame in source:
                for alert in pipeline.process(frame):
                    sink.write(alert.model_dump_json() + "\n")
                    t = alert.media_time or 0.0
                    lo, hi = first_last.get(alert.rule.id, (t, t))
                    first_last[alert.rule.id] = (min(lo, t), max(hi, t))
                bar.advance(task)
        finally:
            source.close()
    stats = pipeline.stats
    result = ReplayResult(
        frames=stats.frames, events=stats.events, events_by_rule=dict(stats.events_by_rule),
        first_last_by_rule=first_last, detector=pipeline.detector.name,
        seconds=time.perf_counter() - started, events_path=events_path,
    )
    (out / "summary.json").write_text(json.dumps({
        "video": str(video), "camera": camera_id, "detector": result.detector, "frames": result.frames,
        "events": result.events, "events_by_rule": result.events_by_rule,
        "first_last_media_time_by_rule": first_last, "seconds": round(result.seconds, 3),
    }, indent=2))
    return result
