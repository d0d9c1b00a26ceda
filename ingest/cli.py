"""The `lookout` command line: worker-side commands here, others plugged in by entry point.

`api` registers its commands through the `lookout.commands` entry-point group, so this module
never imports the api package (DESIGN.md: ingest and api only talk over the bus).
"""

from __future__ import annotations

import json
import logging
from importlib.metadata import entry_points
from pathlib import Path

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from rules.configfile import ConfigError

app = typer.Typer(help="Lookout: video and sensor analytics with 1-3-5 minute response dispatch.", no_args_is_help=True)
config_app = typer.Typer(help="Check and document configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
console = Console(stderr=True)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=True)],
        force=True,
    )
    for noisy in ("kafka", "httpx", "uvicorn.access", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _load(config_dir: Path, rules: Path | None = None):
    from ingest.siteconfig import load_worker_config

    try:
        return load_worker_config(config_dir, rules)
    except ConfigError as exc:
        for issue in exc.issues:
            console.print(f"[red]error[/] {escape(str(issue))}")
        raise typer.Exit(2) from None


@config_app.command("check")
def config_check(config_dir: Path = typer.Argument(Path("configs"), help="Config folder")) -> None:
    """Validate every config file; print each problem with file, line and key."""
    from ingest.siteconfig import check_config_dir

    issues = check_config_dir(config_dir)
    for issue in issues:
        console.print(f"[red]error[/] {escape(str(issue))}")
    if issues:
        console.print(f"{len(issues)} problem(s) in {config_dir}")
        raise typer.Exit(1)
    console.print(f"[green]ok[/] {config_dir}: all config files are valid")


@config_app.command("schema")
def config_schema(out: Path = typer.Option(Path("docs/schema"), help="Output folder")) -> None:
    """Write the JSON Schema of every config file (feeds docs and the console's forms)."""
    out.mkdir(parents=True, exist_ok=True)
    for ep in sorted(entry_points(group="lookout.config_files"), key=lambda e: e.name):
        target = out / ep.name.replace(".yaml", ".schema.json")
        target.write_text(json.dumps(ep.load().model_json_schema(), indent=2) + "\n")
        console.print(f"wrote {target}")


@app.command()
def worker(
    config_dir: Path = typer.Option(Path("configs"), "--config", "-c", envvar="LOOKOUT_CONFIG_DIR"),
    camera: list[str] = typer.Option(None, "--camera", help="Only these camera ids (default: all enabled)"),
    duration: float = typer.Option(0, help="Stop after this many seconds (0 = run until stopped)"),
    worker_id: str = typer.Option(None, "--worker-id", envvar="LOOKOUT_WORKER_ID",
                                  help="Decode the cameras assigned to this worker id in cameras.yaml"),
    sensors: Path = typer.Option(None, "--sensors", help="sensors.yaml: MQTT/webhook sensors, drone telemetry, sensor rules"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Decode streams, run detection and fence rules, publish alerts onto the bus."""
    from ingest.settings import WorkerSettings, apply_opencv_threads
    from ingest.worker import Worker

    setup_logging(verbose)
    settings = WorkerSettings()
    apply_opencv_threads(settings.opencv_threads)
    sensors_cfg = None
    if sensors is not None:
        from ingest.sensors.config import load_sensors

        try:
            sensors_cfg = load_sensors(sensors)
        except ConfigError as exc:
            for issue in exc.issues:
                console.print(f"[red]error[/] {escape(str(issue))}")
            raise typer.Exit(2) from None
    w = Worker(_load(config_dir), data_dir=settings.data_dir, bus_url=settings.resolved_bus_url(), camera_ids=camera or None,
               worker_id=worker_id, sensors=sensors_cfg)
    try:
        report = w.run(duration_s=duration or None)
    except KeyboardInterrupt:
        w.stop()
        return
    console.print(f"worker done: {report.frames} frames, {report.alerts} alerts, {report.outbox_pending} pending in outbox")


@app.command()
def replay(
    video: Path = typer.Argument(..., help="Recording to analyse"),
    config_dir: Path = typer.Option(Path("configs"), "--config", "-c"),
    out: Path = typer.Option(Path("out/replay"), "--out", "-o"),
    camera: str = typer.Option(None, help="Camera whose rules and settings apply (default: first)"),
    rules: Path = typer.Option(None, help="Candidate rules file instead of CONFIG/rules.yaml"),
    fps: float = typer.Option(0, help="Analysis rate (0 = the camera's analysis_fps)"),
    video_out: bool = typer.Option(False, "--video", help="Also write OUT/replay.mp4: zones, tracks, firing moments"),
    compare: tuple[Path, Path] = typer.Option(
        None, metavar="OLD NEW", help="Two rules files: run both on the same tracks, list events that "
        "appear or disappear (OUT/compare.md, compare.json)"),
    tolerance: float = typer.Option(1.0, help="--compare: events within this many seconds are the same"),
    labels: Path = typer.Option(None, help="Labels file (docs/workbench.md): score the replay per rule "
                                "(OUT/scores.json)"),
    sheet_tiles: int = typer.Option(24, min=1, help="At most this many tiles on OUT/contact_sheet.jpg"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Dry-run detection and fence rules on a recording: events.jsonl, snapshots, summary.json and
    summary.md, contact_sheet.jpg; optionally an annotated video, a rules comparison and scores."""
    from ingest.replay import replay as run_replay
    from ingest.workbench import compare as cmp
    from ingest.workbench import scoring
    from ingest.workbench.fence_events import read_events
    from ingest.workbench.labels import load_labels
    from ingest.workbench.tracklog import TrackLog
    from ingest.workbench.video_out import AnnotatedVideo

    setup_logging(verbose)
    logging.getLogger("lookout.pipeline").setLevel(logging.WARNING)
    cfg = _load(config_dir, rules)
    # Check every input file before the (slow) replay, so a typo fails in a second.
    variants = [_load(config_dir, path) for path in compare] if compare else []
    expected = None
    if labels is not None:
        try:
            expected = load_labels(labels)
        except ConfigError as exc:
            for issue in exc.issues:  # escaped: messages quote YAML such as [start, end]
                console.print(f"[red]error[/] {escape(str(issue))}")
            raise typer.Exit(2) from None
    cam_id = camera or cfg.cameras.cameras[0].id
    track_log = TrackLog(cam_id)
    observers = [track_log] if compare else []
    writer = None
    if video_out:
        cam_fps = next((c.analysis_fps for c in cfg.cameras.cameras if c.id == cam_id), 5.0)
        writer = AnnotatedVideo(out / "replay.mp4", fps or cam_fps)
        observers.append(writer)
    try:
        result = run_replay(video, cfg, out, camera_id=camera, analysis_fps=fps or None,
                            observers=observers, sheet_tiles=sheet_tiles)
    except (FileNotFoundError, KeyError) as exc:
        console.print(f"[red]error[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    finally:
        if writer is not None:
            writer.close()
    table = Table(title=f"{video.name}: {result.frames} frames in {result.seconds:.1f} s ({result.detector})")
    for col in ("rule", "events", "first (s)", "last (s)"):
        table.add_column(col)
    for rule_id, n in sorted(result.events_by_rule.items()):
        lo, hi = result.first_last_by_rule.get(rule_id, (0, 0))
        table.add_row(rule_id, str(n), f"{lo:.1f}", f"{hi:.1f}")
    Console().print(table)
    console.print(f"events: {result.events_path}; summary: {out / 'summary.md'}; "
                  f"contact sheet: {result.contact_sheet} ({result.sheet_tiles} tiles)")
    if writer is not None:
        console.print(f"video: {writer.path} ({writer.frames} frames)")
    if compare:
        old_events, new_events = (track_log.run_rules(v.rules_for(cam_id)) for v in variants)
        comparison = cmp.compare_events(old_events, new_events, tolerance_s=tolerance,
                                        old_name=str(compare[0]), new_name=str(compare[1]))
        Console().print(cmp.table(comparison))
        paths = cmp.write_comparison(comparison, out)
        console.print(f"comparison: {paths[1]}")
    if expected is not None:
        scores = scoring.score(expected.events, read_events(result.events_path))
        Console().print(scoring.table(scores, title=f"{video.name} scored against {labels.name}"))
        path = scoring.write_scores(scores, out / "scores.json", video=str(video), labels=str(labels),
                                    camera=cam_id, analysis_fps=result.analysis_fps)
        console.print(f"scores: {path}")


@app.command()
def run(
    config_dir: Path = typer.Option(Path("configs"), "--config", "-c"),
    data_dir: Path = typer.Option(Path("var/run"), "--data-dir"),
    port: int = typer.Option(8080, help="API and console port"),
    duration: float = typer.Option(0, help="Stop after this many seconds (0 = until Ctrl-C)"),
    bus_url: str = typer.Option(None, help="Default: the embedded bus in DATA_DIR"),
    db_url: str = typer.Option(None, help="Default: SQLite in DATA_DIR"),
) -> None:
    """Everything on one machine: worker, API with dispatcher, and a simulated patrol unit."""
    from ingest.run import run_all

    setup_logging()
    raise typer.Exit(run_all(config_dir, data_dir, port=port, duration=duration or None, bus_url=bus_url, db_url=db_url))


def _register_plugins() -> None:
    for ep in entry_points(group="lookout.commands"):
        try:
            ep.load()(app)
        except ImportError as exc:  # a plugin whose optional dependencies are missing
            logging.getLogger("lookout").debug("command plugin %s not loaded: %s", ep.name, exc)


def main() -> None:
    _register_plugins()
    app()


if __name__ == "__main__":
    main()
