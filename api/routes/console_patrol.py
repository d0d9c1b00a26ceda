"""Video patrol: raise a manual alert on what the operator sees (logic in `console_manual`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, require
from api.deps import get_engine, get_settings
from api.dispatch.engine import DispatchEngine
from api.routes import console_manual
from api.settings import Settings

router = APIRouter(prefix="/api/console", tags=["console"])


class ManualAlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera_id: str = Field(max_length=64, description="Camera the operator was watching")
    severity: Literal["low", "medium", "high", "critical"] = Field(default="high", description="Selects the dispatch policy")
    note: str = Field(default="", max_length=500, description="What the operator saw")


@router.post("/manual-alerts")
async def manual_alert(body: ManualAlertIn, settings: Settings = Depends(get_settings),
                       engine: DispatchEngine = Depends(get_engine),
                       who: Principal = Depends(require("operator"))) -> dict:
    try:
        alert = console_manual.build(settings.config_dir, settings.data_dir, body.camera_id, body.severity, body.note,
                                     actor=f"{who.role}:{who.subject}", now=engine.clock())
    except console_manual.UnknownCamera as exc:
        raise HTTPException(404, str(exc)) from None
    # Straight into the dispatch engine (this process is the dispatcher); the alert is stored and
    # pushed like any other, so the command room sees it in its feed.
    incident_id = await run_in_threadpool(engine.handle_alert, alert)
    return {"alert_id": alert.alert_id, "incident_id": incident_id}
