"""Fence editor's "Try on recording": run the product's own `lookout replay` on a camera's recorded
clip with the editor's unsaved rules, as a bounded background job, and read back what would fire.

The api must not import ingest (import-linter: `ingest | api` are independent layers), so the
replay runs as a subprocess of the same interpreter (`python -m ingest.cli replay …`), with an
argument list (never a shell) built only from values the server looked up itself: the camera id
is checked against cameras.yaml, the recording is picked from the server's own list by id, and the
rules are validated with the same models the save path uses before they are written to a file.

One replay also re-runs the saved version of the camera's rules on the same tracks
(`--compare SAVED CANDIDATE`), which gives the editor "+N / −M events" for the change at no extra
decode. Outputs live in a temporary folder per job; old jobs are pruned, running ones are killed
at their timeout and when the API process exits.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from api.routes import console_rulestore as store
from api.routes.console_sitecfg import CAMERA_ID

VIDEO_EXT = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".ts", ".m4v"})
State = Literal["queued", "running", "done", "failed", "timeout"]
MAX_EVENTS = 500  # listed per job; the per-rule counts stay exact beyond it
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_DROP_ENV = ("LOOKOUT_TOKENS", "LOOKOUT_JWT_SECRET", "LOOKOUT_WEBHOOKS")  # the replay needs no secrets


class UnknownCamera(LookupError):
    pass


class UnknownRecording(LookupError):
    pass


class Busy(RuntimeError):
    """Too many replays waiting; the editor says try again shortly."""


@dataclass(frozen=True)
class Recording:
    id: str  # what the editor sends back: "camera" or a path relative to the recordings folder
    name: str
    source: Literal["camera", "recordings"]
    path: Path
    size_bytes: int

    def public(self) -> dict[str, Any]:
        # Never the absolute path or the camera URL.
        return {"id": self.id, "name": self.name, "source": self.source, "size_bytes": self.size_bytes}


def _camera_entry(config_dir: Path, camera_id: str) -> dict[str, Any] | None:
    """The camera's raw cameras.yaml entry (plain YAML: ingest.config is off limits here)."""
    if not CAMERA_ID.match(camera_id):
        return None
    try:
        doc = YAML(typ="safe").load((Path(config_dir) / "cameras.yaml").read_text(encoding="utf-8"))
    except (OSError, YAMLError):
        return None
    items = doc.get("cameras") if isinstance(doc, dict) else None
    for c in items if isinstance(items, list) else []:
        if isinstance(c, dict) and c.get("id") == camera_id:
            return c
    return None


def recordings(config_dir: Path, recordings_dir: Path | None, camera_id: str) -> list[Recording]:
    """Clips the camera's rules can be tried on: the camera's own file source (a file camera),
    then `<recordings>/<camera>.<ext>` and `<recordings>/<camera>/*.<ext>`; recordings default to
    `<config_dir>/recordings`. Raises UnknownCamera for an id cameras.yaml does not define."""
    entry = _camera_entry(config_dir, camera_id)
    if entry is None:
        raise UnknownCamera(f"unknown camera {camera_id!r}: not in cameras.yaml")
    out: list[Recording] = []
    url = entry.get("url")
    if isinstance(url, str) and urlsplit(url).scheme.lower() in ("", "file"):
        path = Path(url.removeprefix("file://")).expanduser()
        path = path if path.is_absolute() else Path(config_dir) / path
        if path.is_file() and path.suffix.lower() in VIDEO_EXT:
            out.append(Recording("camera", path.name, "camera", path, path.stat().st_size))
    root = Path(recordings_dir) if recordings_dir is not None else Path(config_dir) / "recordings"
    candidates = [root / f"{camera_id}{ext}" for ext in sorted(VIDEO_EXT)]
    if (root / camera_id).is_dir():
        candidates += sorted((root / camera_id).iterdir())
    for p in candidates:
        if p.is_file() and p.suffix.lower() in VIDEO_EXT:
            out.append(Recording(p.relative_to(root).as_posix(), p.relative_to(root).as_posix(), "recordings", p,
                                 p.stat().st_size))
    return out


def candidate_rules(camera_id: str, rules: list[Any]) -> dict[str, Any]:
    """The candidate rules file for one camera, validated like a save; InvalidRules names the
    field by the same key path (`cameras.gate.rules[1].line`)."""
    model = store.validate({"cameras": {camera_id: {"rules": rules}}})
    return model.model_dump(mode="json", exclude_defaults=True)


def _saved_rules(config_dir: Path, camera_id: str) -> tuple[int, dict[str, Any]] | None:
    """(version, rules file of just this camera) as saved now; None when rules.yaml is broken."""
    try:
        current = store.read(config_dir)
    except store.InvalidRules:
        return None
    cam = current["rules"].get("cameras", {}).get(camera_id, {"rules": []})
    return current["version"], {"cameras": {camera_id: cam}}


@dataclass
class Job:
    id: str
    camera: str
    recording: Recording
    actor: str
    dir: Path
    argv: list[str]
    kinds: dict[str, str]  # rule id → kind, from the candidate rules (rules that fire nothing too)
    saved_version: int | None
    created: float = field(default_factory=time.time)
    state: State = "queued"
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    stderr_tail: str = ""
    result: dict[str, Any] | None = None
    alert_ids: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    def view(self) -> dict[str, Any]:
        end = self.finished or time.time()
        return {
            "job_id": self.id, "state": self.state, "camera": self.camera, "recording": self.recording.public(),
            "actor": self.actor, "created_at": self.created,
            "elapsed_s": round(end - self.started, 1) if self.started else 0.0,
            "error": self.error, "stderr_tail": self.stderr_tail if self.state in ("failed", "timeout") else "",
            "result": self.result,
        }


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return _ANSI.sub("", text)[-limit:].strip()


def _read_result(job: Job) -> dict[str, Any]:
    """What would fire, from the replay's stable outputs (summary.json, events.jsonl, compare.json)."""
    out = job.dir / "out"
    summary = json.loads((out / "summary.json").read_text())
    events = []
    for n, line in enumerate((out / "events.jsonl").read_text().splitlines()):
        if not line.strip():
            continue
        alert = json.loads(line)
        job.alert_ids.append(alert["alert_id"])
        if n < MAX_EVENTS:
            objs = alert.get("objects") or [{}]
            events.append({"n": n, "rule": alert["rule"]["id"], "kind": alert["rule"]["kind"],
                           "t": round(alert.get("media_time") or 0.0, 2),
                           "direction": (alert.get("evidence") or {}).get("direction"),
                           "track": objs[0].get("track_id")})
    counts: dict[str, int] = summary.get("events_by_rule", {})
    first_last = summary.get("first_last_media_time_by_rule", {})
    rules = []
    for rule_id in [*job.kinds, *(r for r in counts if r not in job.kinds)]:
        lo, hi = first_last.get(rule_id, (None, None))
        first = next((e["n"] for e in events if e["rule"] == rule_id), None)
        rules.append({"rule": rule_id, "kind": job.kinds.get(rule_id, ""), "count": counts.get(rule_id, 0),
                      "first_s": None if lo is None else round(lo, 2), "last_s": None if hi is None else round(hi, 2),
                      "first_event": first})
    compare = None
    if (out / "compare.json").exists():
        c = json.loads((out / "compare.json").read_text())
        compare = {"saved_version": job.saved_version, "saved_events": c["old_events"],
                   "candidate_events": c["new_events"], "unchanged": c["unchanged"],
                   "appeared": len(c["appeared"]), "disappeared": len(c["disappeared"]), "per_rule": c["per_rule"]}
    return {"frames": summary.get("frames"), "detector": summary.get("detector"), "seconds": summary.get("seconds"),
            "events": events, "total_events": len(job.alert_ids), "rules": rules, "compare": compare}


class ReplayJobs:
    """Replays for one API process: at most `max_running` at a time, `max_waiting` more queued,
    each killed after `timeout_s`; the newest `keep` finished jobs (and their files) are kept."""

    def __init__(self, config_dir: Path, recordings_dir: Path | None = None, *, timeout_s: float = 300.0,
                 max_running: int = 1, max_waiting: int = 4, keep: int = 10, python: str = sys.executable) -> None:
        self.config_dir, self.recordings_dir = Path(config_dir), recordings_dir
        self.timeout_s, self.max_waiting, self.keep, self.python = timeout_s, max_waiting, keep, python
        self._slots = threading.Semaphore(max_running)
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        _LIVE.add(self)

    def recordings(self, camera_id: str) -> list[Recording]:
        return recordings(self.config_dir, self.recordings_dir, camera_id)

    def submit(self, camera_id: str, rules: list[Any], *, recording: str | None = None, actor: str = "") -> Job:
        """Validate and queue a replay; raises UnknownCamera, UnknownRecording, store.InvalidRules, Busy."""
        available = self.recordings(camera_id)
        if not available:
            raise UnknownRecording(f"no recording for camera {camera_id!r}: it is not a file camera and "
                                   f"the recordings folder has no {camera_id}.mp4 or {camera_id}/")
        rec = next((r for r in available if r.id == (recording or available[0].id)), None)
        if rec is None:
            raise UnknownRecording(f"unknown recording {recording!r} for camera {camera_id!r}")
        candidate = candidate_rules(camera_id, rules)
        kinds = {r["id"]: r["kind"] for r in candidate["cameras"][camera_id].get("rules", [])}
        saved = _saved_rules(self.config_dir, camera_id)
        with self._lock:
            self._prune()
            if sum(j.state in ("queued", "running") for j in self._jobs.values()) > self.max_waiting:
                raise Busy("too many replays running; try again in a minute")
            job_id = secrets.token_hex(8)
            workdir = Path(tempfile.mkdtemp(prefix=f"lookout-replay-{job_id}-"))
        # JSON is YAML: the replay's config loader reads these files as they are.
        (workdir / "candidate.yaml").write_text(json.dumps(candidate, indent=1))
        argv = [self.python, "-m", "ingest.cli", "replay", str(rec.path), "--config", str(self.config_dir),
                "--out", str(workdir / "out"), "--camera", camera_id, "--rules", str(workdir / "candidate.yaml"),
                "--sheet-tiles", "1"]
        if saved is not None:
            (workdir / "saved.yaml").write_text(json.dumps(saved[1], indent=1))
            argv += ["--compare", str(workdir / "saved.yaml"), str(workdir / "candidate.yaml")]
        job = Job(job_id, camera_id, rec, actor, workdir, argv, kinds, saved[0] if saved else None)
        with self._lock:
            self._jobs[job_id] = job
        threading.Thread(target=self._run, args=(job,), name=f"replay-{job_id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def snapshot(self, job_id: str, n: int) -> Path | None:
        """The annotated snapshot of the job's n-th event, when the replay wrote one."""
        job = self.get(job_id)
        if job is None or job.state != "done" or not 0 <= n < len(job.alert_ids):
            return None
        root = (job.dir / "out" / "snapshots").resolve()
        path = (root / f"{job.alert_ids[n]}.jpg").resolve()
        return path if path.is_relative_to(root) and path.is_file() else None

    def _run(self, job: Job) -> None:
        with self._slots:
            if job.state != "queued":  # cancelled by close() while waiting
                return
            job.state, job.started = "running", time.time()
            env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
            env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
            log = job.dir / "replay.log"
            try:
                with log.open("wb") as sink:
                    # Own session: a timeout kills the replay and anything it started.
                    job.proc = subprocess.Popen(job.argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                env=env, start_new_session=True)
                    try:
                        rc = job.proc.wait(timeout=self.timeout_s)
                    except subprocess.TimeoutExpired:
                        _kill(job.proc)
                        job.state, job.error = "timeout", f"replay ran past {self.timeout_s:g} s and was stopped"
                        return
                if rc != 0:
                    job.state, job.error = "failed", f"lookout replay exited with {rc}"
                    return
                job.result = _read_result(job)
                job.state = "done"
            except (OSError, ValueError, KeyError) as exc:
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.finished = time.time()
                job.proc = None
                if job.state != "done":
                    job.stderr_tail = _tail(log)

    def _prune(self) -> None:
        """Drop the oldest finished jobs beyond `keep`, with their files (called under the lock)."""
        finished = sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.finished or 0)
        for job in finished[:max(0, len(finished) - self.keep)]:
            shutil.rmtree(job.dir, ignore_errors=True)
            del self._jobs[job.id]

    def close(self) -> None:
        """Kill running replays and remove every job's files (API shutdown, interpreter exit)."""
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            if job.state == "queued":
                job.state, job.error = "failed", "API shutting down"
            if job.proc is not None:
                _kill(job.proc)
            shutil.rmtree(job.dir, ignore_errors=True)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


_LIVE: weakref.WeakSet[ReplayJobs] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for jobs in list(_LIVE):
        jobs.close()
