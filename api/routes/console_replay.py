"""Fence editor "Try on recording": run the editor's unsaved rules of one camera on a recorded clip
and show what would fire. Logic in `api.replay_jobs` (the replay runs as a `lookout replay`
subprocess). Engineers start replays (they edit fences, and a replay costs a CPU for a while);
operators, who see the editor read-only, may list recordings and look at results."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api import replay_jobs
from api.auth import Principal, require
from api.routes import console_rulestore as store
from api.settings import Settings

router = APIRouter(prefix="/api/console/replay", tags=["fences"])
VIEWERS = ("engineer", "operator")
CAMERA = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_create_lock = threading.Lock()


def get_jobs(request: Request) -> replay_jobs.ReplayJobs:
    """One job manager per app, made on first use (the concurrency bound is per API process)."""
    state = request.app.state
    with _create_lock:
        if getattr(state, "replay_jobs", None) is None:
            settings: Settings = state.settings
            state.replay_jobs = replay_jobs.ReplayJobs(settings.config_dir, settings.recordings_dir,
                                                       timeout_s=settings.replay_timeout_s)
        return state.replay_jobs


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera: str = Field(pattern=CAMERA, description="Camera id (cameras.yaml) whose rules are tried")
    rules: list[dict[str, Any]] = Field(description="The camera's rules as the editor has them (unsaved)")
    recording: str | None = Field(default=None, max_length=300,
                                  description="Recording id from /recordings; default: the first one")


@router.get("/recordings")
def list_recordings(camera: str = Query(pattern=CAMERA), jobs: replay_jobs.ReplayJobs = Depends(get_jobs),
                    _=Depends(require(*VIEWERS))) -> list[dict]:
    try:
        return [r.public() for r in jobs.recordings(camera)]
    except replay_jobs.UnknownCamera as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("", status_code=202)
async def start(body: TryIn, jobs: replay_jobs.ReplayJobs = Depends(get_jobs),
                who: Principal = Depends(require("engineer"))) -> dict:
    try:
        job = await run_in_threadpool(jobs.submit, body.camera, body.rules, recording=body.recording,
                                      actor=f"{who.role}:{who.subject}")
    except (replay_jobs.UnknownCamera, replay_jobs.UnknownRecording) as exc:
        raise HTTPException(404, str(exc)) from None
    except store.InvalidRules as exc:
        raise HTTPException(422, {"message": "invalid rules", "errors": exc.errors}) from None
    except replay_jobs.Busy as exc:
        raise HTTPException(429, str(exc)) from None
    return {"job_id": job.id, "state": job.state}


@router.get("/{job_id}")
def status(job_id: str = Path(pattern=r"^[0-9a-f]{16}$"), jobs: replay_jobs.ReplayJobs = Depends(get_jobs),
           _=Depends(require(*VIEWERS))) -> dict:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no replay job {job_id}")
    return job.view()


@router.get("/{job_id}/snapshot/{n}", response_class=FileResponse)
def snapshot(job_id: str = Path(pattern=r"^[0-9a-f]{16}$"), n: int = Path(ge=0),
             jobs: replay_jobs.ReplayJobs = Depends(get_jobs), _=Depends(require(*VIEWERS, allow_query=True))):
    # allow_query: <img src> cannot send headers.
    path = jobs.snapshot(job_id, n)
    if path is None:
        raise HTTPException(404, f"no snapshot {n} for replay job {job_id}")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
