"""`contact_sheet.jpg`: the event snapshots of a replay on one image, captioned.

An engineer tuning a fence wants to see at a glance what fired: each tile is the event's
annotated snapshot with a caption bar (rule, media time, track id, direction). With more events
than tiles, the tiles are spread evenly over the replay's time order rather than taking the
first N, so a long recording shows its whole span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import cv2
import numpy as np

from ingest.workbench.fence_events import FenceEvent

TILE_W = 400
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BG = (40, 40, 40)
_WHITE = (255, 255, 255)
_CAPTION_H = 26
_HEADER_H = 34


@dataclass(frozen=True)
class ContactSheet:
    path: Path
    tiles: int
    events: int


def media_clock(t: float) -> str:
    """Media seconds as m:ss.s, the way video players show it."""
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m)}:{s:04.1f}"


def pick(events: Sequence[FenceEvent], max_tiles: int) -> list[FenceEvent]:
    ordered = sorted(events, key=lambda e: e.t)
    if len(ordered) <= max_tiles:
        return ordered
    idx = np.linspace(0, len(ordered) - 1, max_tiles).round().astype(int)
    return [ordered[i] for i in idx]


def _read_snapshot(uri: str | None) -> np.ndarray | None:
    if not uri:
        return None
    path = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
    return cv2.imread(path, cv2.IMREAD_COLOR)


def caption(ev: FenceEvent) -> str:
    text = f"{ev.rule_id}  {media_clock(ev.t)}  #{ev.track_id}"
    return f"{text}  {ev.direction}" if ev.direction else text


def _tile(ev: FenceEvent, tile_h: int) -> np.ndarray:
    img = _read_snapshot(ev.snapshot)
    if img is None:
        img = np.full((tile_h, TILE_W, 3), 90, np.uint8)
        cv2.putText(img, "no snapshot", (10, tile_h // 2), _FONT, 0.6, _WHITE, 1, cv2.LINE_AA)
    else:
        img = cv2.resize(img, (TILE_W, tile_h), interpolation=cv2.INTER_AREA)
    bar = np.full((_CAPTION_H, TILE_W, 3), _BG, np.uint8)
    cv2.putText(bar, caption(ev), (6, 18), _FONT, 0.5, _WHITE, 1, cv2.LINE_AA)
    return np.vstack([img, bar])


def write_contact_sheet(events: Sequence[FenceEvent], path: Path, *, title: str = "",
                        max_tiles: int = 24, columns: int = 4) -> ContactSheet:
    """Write the sheet as JPEG; with no events it is a header saying so (still a valid image)."""
    chosen = pick(events, max(1, max_tiles))
    # Tile height follows the first readable snapshot's aspect ratio (all come from one camera).
    tile_h = round(TILE_W * 0.75)
    for ev in chosen:
        first = _read_snapshot(ev.snapshot)
        if first is not None:
            tile_h = max(1, round(TILE_W * first.shape[0] / first.shape[1]))
            break
    cols = max(1, min(columns, len(chosen))) if chosen else columns
    rows = -(-len(chosen) // cols) if chosen else 0
    cell_h = tile_h + _CAPTION_H
    sheet = np.full((_HEADER_H + rows * cell_h + (rows + 1) * 4, cols * TILE_W + (cols + 1) * 4, 3), 20, np.uint8)
    shown = f"{len(chosen)} of {len(events)} events" if events else "no events"
    cv2.putText(sheet, f"{title}  ({shown})".strip(), (8, 23), _FONT, 0.65, _WHITE, 1, cv2.LINE_AA)
    for i, ev in enumerate(chosen):
        r, c = divmod(i, cols)
        y, x = _HEADER_H + 4 + r * (cell_h + 4), 4 + c * (TILE_W + 4)
        sheet[y:y + cell_h, x:x + TILE_W] = _tile(ev, tile_h)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), sheet, [cv2.IMWRITE_JPEG_QUALITY, 88]):
        raise OSError(f"could not write {path}")
    return ContactSheet(path, len(chosen), len(events))
