"""Alert clips: `GET /api/alerts/{alert_id}/clip` streams the MP4 the worker recorded.

The clip's URI is in the alert from the start; the file appears a few seconds later, so a missing
file is 404 "clip not ready" (the console retries). Local clips go through FileResponse (Range
requests, so browsers can seek); S3 clips are streamed from the bucket with a single-range
Range passed through.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.orm import Session

from alerts.evidence.config import EvidenceConfig
from alerts.evidence.store import CLIP_TYPE, EvidenceError, EvidenceStore, LocalEvidenceStore, open_store
from alerts.site import SiteFile
from api import queries
from api.auth import Principal, require
from api.deps import get_session, get_settings, visible_nodes
from api.routes.alerts import READERS
from api.settings import Settings
from rules.configfile import ConfigError, load_model

router = APIRouter(prefix="/api", tags=["alerts"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@lru_cache(maxsize=4)
def _store_for(site_yaml: Path, mtime_ns: int, data_dir: Path) -> EvidenceStore:
    # Keyed by mtime: an edited site.yaml takes effect without a restart.
    cfg = load_model(SiteFile, site_yaml).evidence if mtime_ns else EvidenceConfig()
    return open_store(cfg, data_dir)


def evidence_store(settings: Settings) -> EvidenceStore:
    """The store named by the `evidence:` section of site.yaml in the API's config folder (the
    same file the worker reads), local under the API's data dir by default."""
    path = Path(settings.config_dir) / "site.yaml"
    mtime = path.stat().st_mtime_ns if path.is_file() else 0
    try:
        return _store_for(path, mtime, Path(settings.data_dir))
    except (ConfigError, EvidenceError) as exc:
        raise HTTPException(503, f"evidence store not usable: {exc}") from None


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single `bytes=` range; None for the whole object."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # multi-range or malformed: answer with the whole clip (allowed by RFC 9110)
    if m.group(1):
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    else:
        start, end = max(0, size - int(m.group(2))), size - 1
    if start >= size or start > end:
        raise HTTPException(416, "range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return start, end


@router.get("/alerts/{alert_id}/clip", response_class=FileResponse)
def get_clip(alert_id: str, request: Request, s: Session = Depends(get_session),
             settings: Settings = Depends(get_settings), who: Principal = Depends(require(*READERS, allow_query=True))):
    # allow_query: <video src> cannot send headers either.
    row = queries.get_alert(s, alert_id, visible_nodes(request, who.node))
    clip = (row.payload.get("clip") or {}) if row is not None else {}
    if not clip.get("uri"):
        raise HTTPException(404, "no clip for this alert")
    store = evidence_store(settings)
    key = store.key_of(clip["uri"])
    if key is None:
        raise HTTPException(404, "the clip is not in this server's evidence store")
    if isinstance(store, LocalEvidenceStore):
        path = store.path(key)
        if not path.is_file():
            raise HTTPException(404, "clip not ready")
        return FileResponse(path, media_type=CLIP_TYPE)
    try:
        size = store.size(key)
    except EvidenceError as exc:
        raise HTTPException(502, f"evidence store: {exc}") from None
    if size is None:
        raise HTTPException(404, "clip not ready")
    rng = _byte_range(request.headers.get("range"), size)
    start, end = rng if rng is not None else (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    if rng is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(store.open_range(key, start, end), status_code=206 if rng else 200,
                             media_type=CLIP_TYPE, headers=headers)
