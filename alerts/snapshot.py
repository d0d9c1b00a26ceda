"""Annotated alert snapshots: what the responder and the operator see first.

`annotate` draws on a copy of the frame (the caller's frame may be a shared-memory view that
others still read); `SnapshotStore` writes JPEGs so a reader never sees half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from rules.events import EventObject

# BGR. The event's objects stand out in red; fences are drawn in yellow, context in grey.
_EVENT = (0, 0, 255)
_FENCE = (0, 215, 255)
_CONTEXT = (170, 170, 170)
_TITLE_BG = (32, 32, 32)
_WHITE = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX

Shape = tuple[str, np.ndarray, bool]


def _scale(image: np.ndarray) -> float:
    # Text and lines sized for a 720-pixel-high frame, so 4K and CIF snapshots read alike.
    return max(0.4, image.shape[0] / 720)


def _label(img: np.ndarray, text: str, org: tuple[int, int], color, s: float) -> None:
    """Text on a filled box so it stays readable on any background."""
    fs, th = 0.5 * s, max(1, round(s))
    (w, h), base = cv2.getTextSize(text, _FONT, fs, th)
    x = int(np.clip(org[0], 0, max(0, img.shape[1] - w - 4)))
    y = int(np.clip(org[1], h + base + 4, img.shape[0]))
    cv2.rectangle(img, (x, y - h - base - 4), (x + w + 4, y), color, cv2.FILLED)
    ink = (0, 0, 0) if sum(color) > 380 else _WHITE
    cv2.putText(img, text, (x + 2, y - base - 2), _FONT, fs, ink, th, cv2.LINE_AA)


def _draw_shape(img: np.ndarray, name: str, points: np.ndarray, closed: bool, s: float) -> None:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 2:
        return
    th = max(1, round(2 * s))
    ipts = np.round(pts).astype(np.int32)
    if closed:
        overlay = img.copy()
        cv2.fillPoly(overlay, [ipts], _FENCE, cv2.LINE_AA)
        cv2.addWeighted(overlay, 0.18, img, 0.82, 0, dst=img)
    cv2.polylines(img, [ipts], closed, _FENCE, th, cv2.LINE_AA)
    if not closed:
        # Direction arrow from the middle segment's midpoint towards its right-hand side (image
        # coordinates, y down), walking from the first point to the last: the "in" side of a
        # tripwire. Reverse the points to flip it.
        i = (len(pts) - 2) // 2
        a, b = pts[i], pts[i + 1]
        d = b - a
        length = float(np.hypot(*d))
        if length > 0:
            normal = np.array([-d[1], d[0]]) / length
            mid = (a + b) / 2
            tip = mid + normal * min(60 * s, max(15 * s, length / 3))
            cv2.arrowedLine(img, tuple(np.round(mid).astype(int)), tuple(np.round(tip).astype(int)),
                            _FENCE, th, cv2.LINE_AA, tipLength=0.3)
    _label(img, name, (int(ipts[:, 0].min()), int(ipts[:, 1].min()) - 2), _FENCE, s)


def _draw_object(img: np.ndarray, obj: EventObject, color, s: float, thick: int) -> None:
    x1, y1, x2, y2 = (int(round(v)) for v in obj.bbox)
    cv2.rectangle(img, (x1, y1), (x2, y2), color, thick, cv2.LINE_AA)
    px, py = (int(round(v)) for v in obj.point)
    cv2.circle(img, (px, py), max(2, thick + 1), color, cv2.FILLED, cv2.LINE_AA)
    _label(img, f"#{obj.track_id} {obj.label} {obj.confidence:.2f}", (x1, y1 - 2), color, s)


def annotate(
    image: np.ndarray,
    *,
    objects: Sequence[EventObject],
    shapes: Sequence[Shape],
    title: str,
    context: Sequence[EventObject] = (),
) -> np.ndarray:
    """A copy of `image` (BGR or grey) with fences, boxes and a title bar.

    `objects` are the event's objects (highlighted); `context` other tracks in the frame (thin,
    grey). `shapes` are (name, pixel points (N, 2), closed): closed ones are fence polygons, open
    ones lines with a direction arrow. `title` names the rule and time.
    """
    img = np.ascontiguousarray(image)
    if img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1):
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    else:
        img = img.copy()
    if img.dtype != np.uint8:
        raise ValueError(f"annotate expects an 8-bit image, got {img.dtype}")
    s = _scale(img)
    for name, points, closed in shapes:
        _draw_shape(img, name, points, closed, s)
    for obj in context:
        _draw_object(img, obj, _CONTEXT, s, max(1, round(s)))
    for obj in objects:
        _draw_object(img, obj, _EVENT, s, max(2, round(3 * s)))
    # Title bar above the frame rather than over it: nothing in the scene is hidden.
    fs, th = 0.6 * s, max(1, round(s))
    (_, h), base = cv2.getTextSize(title, _FONT, fs, th)
    bar = np.full((h + base + 12, img.shape[1], 3), _TITLE_BG, np.uint8)
    cv2.putText(bar, title, (6, h + 6), _FONT, fs, _WHITE, th, cv2.LINE_AA)
    return np.vstack([bar, img])


_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class SnapshotStore:
    """JPEG files `<root>/<alert_id>.jpg`, written atomically (temporary file + rename)."""

    def __init__(self, root: Path, quality: int = 85) -> None:
        self.root = Path(root)
        self.quality = quality

    def path_for(self, alert_id: str) -> Path:
        # Ids become file names: refuse anything that could leave the folder.
        if not _SAFE_ID.match(alert_id):
            raise ValueError(f"not a usable alert id for a file name: {alert_id!r}")
        return self.root / f"{alert_id}.jpg"

    def save(self, alert_id: str, image: np.ndarray) -> str:
        """Write the snapshot and return its `file://` URI (the alert's `snapshot` field)."""
        path = self.path_for(alert_id)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError(f"could not encode a JPEG for alert {alert_id}")
        self.root.mkdir(parents=True, exist_ok=True)
        # Same folder as the target so the rename is atomic (one file system).
        fd, tmp = tempfile.mkstemp(prefix=f".{alert_id}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data.tobytes())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return path.resolve().as_uri()
