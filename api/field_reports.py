"""A unit's field report on its order: a note and optionally one photo, sent with "resolved".

The photo is checked by its first bytes (JPEG, PNG or WebP; the browser's content type is not
trusted) and size, then written under `<data_dir>/field-reports/order-<id>/` with a name the
server chooses (nothing of the client's file name reaches the disk). The report itself is an
`audit_log` row (action `order.report`, target `order:<id>`), append-only like the rest of the
trail, so the operators' incident view and the reports can list it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.store.models import AuditRow, OrderRow

ACTION = "order.report"
MAX_PHOTO_BYTES = 8 * 1024 * 1024  # a phone photo at full size is 2–6 MB
MAX_NOTE = 2000
NAME = re.compile(r"^[0-9]{10}-[0-9a-f]{12}\.(jpg|png|webp)$")
TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class BadPhoto(ValueError):
    """Not an accepted image (HTTP 415) or too large (HTTP 413); `status` says which."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def sniff(head: bytes) -> str | None:
    """The photo's type from its magic bytes: jpg, png, webp, or None."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def folder(data_dir: Path, order_id: int) -> Path:
    return Path(data_dir) / "field-reports" / f"order-{order_id}"


def store_photo(data_dir: Path, order_id: int, data: bytes, now: float) -> str:
    """Validate and write; returns the file name (under `folder(order_id)`)."""
    if len(data) > MAX_PHOTO_BYTES:
        raise BadPhoto(f"photo is {len(data)} bytes; at most {MAX_PHOTO_BYTES}", 413)
    kind = sniff(data[:16])
    if kind is None:
        raise BadPhoto("photo must be a JPEG, PNG or WebP image", 415)
    name = f"{int(now):010d}-{secrets.token_hex(6)}.{kind}"
    target = folder(data_dir, order_id)
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / (name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target / name)  # operators never see half a file
    return name


def photo_path(data_dir: Path, order_id: int, name: str) -> Path | None:
    if not NAME.match(name):
        return None
    path = folder(data_dir, order_id) / name
    return path if path.is_file() else None


def record(s: Session, order: OrderRow, *, note: str, photo: str | None, actor: str, origin: str,
           now: float) -> dict[str, Any]:
    row = AuditRow(at=now, actor=actor, origin=origin, action=ACTION, target=f"order:{order.id}",
                   detail={"incident_id": order.incident_id, "responder_id": order.responder_id,
                           "note": note, "photo": photo})
    s.add(row)
    s.commit()
    return view(row)


def view(row: AuditRow) -> dict[str, Any]:
    order_id = int(row.target.split(":", 1)[1])
    photo = row.detail.get("photo")
    return {"order_id": order_id, "incident_id": row.detail.get("incident_id"),
            "responder_id": row.detail.get("responder_id"), "by": row.actor, "at": row.at,
            "note": row.detail.get("note", ""),
            "photo_url": f"/api/console/orders/{order_id}/photos/{photo}" if photo else None}


def for_incident(s: Session, incident_id: int) -> list[dict[str, Any]]:
    ids = list(s.scalars(select(OrderRow.id).where(OrderRow.incident_id == incident_id)))
    if not ids:
        return []
    rows = s.scalars(select(AuditRow).where(AuditRow.action == ACTION,
                                            AuditRow.target.in_([f"order:{i}" for i in ids])).order_by(AuditRow.id))
    return [view(r) for r in rows]
