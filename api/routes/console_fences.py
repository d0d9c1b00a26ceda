"""Fence editor endpoints: the rules schema, the current rules, and saving a new version.
Logic in `console_rulestore`; engineers (and admins) write, operators may look."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, require
from api.deps import get_settings
from api.routes import console_rulestore as store
from api.settings import Settings
from rules.config import RulesFile

router = APIRouter(prefix="/api/fences", tags=["fences"])


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: dict[str, Any] = Field(description="The whole rules file (RulesFile) as JSON")
    base_version: int | None = Field(default=None, description="Version the editor loaded; 409 if it moved on")
    comment: str = Field(default="", max_length=500, description="Why, for the audit trail")


@router.get("/schema")
def schema(_=Depends(require("engineer", "operator"))) -> dict:
    """JSON Schema of rules.yaml (RulesFile); the editor builds its rule forms from it."""
    return RulesFile.model_json_schema()


@router.get("")
def current(settings: Settings = Depends(get_settings), _=Depends(require("engineer", "operator"))) -> dict:
    try:
        return store.read(settings.config_dir)
    except store.InvalidRules as exc:
        raise HTTPException(422, {"message": "rules.yaml on disk is invalid", "errors": exc.errors}) from None


@router.put("")
async def save(body: SaveIn, settings: Settings = Depends(get_settings),
               who: Principal = Depends(require("engineer"))) -> dict:
    """Validate with rules.config and write rules.yaml as a new version with an audit entry."""
    try:
        return await run_in_threadpool(store.save, settings.config_dir, body.rules, actor=f"{who.role}:{who.subject}",
                                       base_version=body.base_version, comment=body.comment)
    except store.InvalidRules as exc:
        raise HTTPException(422, {"message": "invalid rules", "errors": exc.errors}) from None
    except store.StaleVersion as exc:
        raise HTTPException(409, str(exc)) from None


@router.get("/history")
def history(settings: Settings = Depends(get_settings), _=Depends(require("engineer", "operator"))) -> list[dict]:
    return store.history(settings.config_dir)
