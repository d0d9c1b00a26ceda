"""`lookout replay`: run a camera's detection and fence rules on a recording, as fast as it goes.

Writes `events.jsonl` (one Alert v1 per line, with `media_time`), annotated snapshots, a
per-rule summary (`summary.json` for programs, `summary.md` for people) and `contact_sheet.jpg`.
The interface is stable: engineers and our accuracy benchmarks depend on it. Extra outputs
(annotated video, recorded tracks for `--compare`) hook in as observers, called with every
analysed frame; see ingest/workbench.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from alerts.model import Alert
from alerts.snapshot import SnapshotStore

from ingest.assembly import DetectorCache, build_pipeline
from ingest.frame import Frame
from ingest.pipeline import CameraPipeline
from ingest.siteconfig import WorkerConfig
from ingest.sources import open_source
from ingest.workbench.contact_sheet import write_contact_sheet
from ingest.workbench.fence_events import FenceEvent
from ingest.workbench.summary import summary_markdown

# Called after the pipeline processed each frame, with the alerts that frame produced.
Observer = Callable[[CameraPipeline, Frame, list[Alert]], None]


@dataclass
class ReplayResult:
    frames: int
    events: int
    events_by_rule: dict[str, int]
    first_last_by_rule: dict[str, tuple[float, float]]
    detector: str
    seconds: float
    events_path: Path
    camera_id: str = ""
    analysis_fps: float = 0.0
    contact_sheet: Path | None = None
    sheet_tiles: int = 0


def replay(
    video: Path,
    cfg: WorkerConfig,
    out: Path,
    *,
    camera_id: str | None = None,
    analysis_fps: float | None = None,
    clock_origin: float | None = None,
    progress: bool = True,
    observers: Sequence[Observer] = (),
    sheet_tiles: int = 24,
) -> ReplayResult:
    video = Path(video)
    out = Path(out)
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
    fired: list[FenceEvent] = []
    started = time.perf_counter()
    source = open_source(camera, base_dir=cfg.base_dir)
    with events_path.open("w") as sink, Progress(
        TextColumn("[bold]replay[/] {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(), disable=not progress,
    ) as bar:
        task = bar.add_task(video.name, total=expected)
        try:
            for frame in source:
                alerts = pipeline.process(frame)
                for alert in alerts:
                    sink.write(alert.model_dump_json() + "\n")
                    fired.append(FenceEvent.from_alert(alert))
                    t = alert.media_time or 0.0
                    lo, hi = first_last.get(alert.rule.id, (t, t))
                    first_last[alert.rule.id] = (min(lo, t), max(hi, t))
                for observe in observers:
                    observe(pipeline, frame, alerts)
                bar.advance(task)
        finally:
            source.close()
    stats = pipeline.stats
    result = ReplayResult(
        frames=stats.frames, events=stats.events, events_by_rule=dict(stats.events_by_rule),
        first_last_by_rule=first_last, detector=pipeline.detector.name,
        seconds=time.perf_counter() - started, events_path=events_path,
        camera_id=camera_id, analysis_fps=camera.analysis_fps,
    )
    summary = {
        "video": str(video), "camera": camera_id, "detector": result.detector, "frames": result.frames,
        "events": result.events, "events_by_rule": result.events_by_rule,
        "first_last_media_time_by_rule": first_last, "seconds": round(result.seconds, 3),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    kinds = {s.id: s.kind for s in pipeline.engine.specs}
    (out / "summary.md").write_text(summary_markdown(summary, fired, kinds))
    sheet = write_contact_sheet(fired, out / "contact_sheet.jpg", title=f"{video.name} | {camera_id}",
                                max_tiles=sheet_tiles)
    result.contact_sheet, result.sheet_tiles = sheet.path, sheet.tiles
    return result
