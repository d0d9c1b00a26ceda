"""Image-plane geometry shared by every rule kind and by the annotators.

Conventions (one place, so rules and drawings never disagree):
- Points are (x, y) pixels, x right, y down; arrays are float64 of shape (N, 2).
- `frame_size` is (width, height) in pixels, like supervision's `resolution_wh`.
- A polyline of K points has M = K - 1 segments; segment m runs from point m to point m + 1.
- Side A of a segment is the left-hand side of someone walking from its first point to its
  second, looking at the image as displayed. Signed distances are positive on side A:

        first ●────────────► last        A (positive) above
                                          B (negative) below

  With y pointing down this is the side where the 2-D cross product (b - a) x (p - a) is
  negative, which is why `signed_distances` negates it.
"""

from __future__ import annotations

import numpy as np
import shapely


def to_pixels(points, frame_size: tuple[int, int]) -> np.ndarray:
    """Normalised [0, 1] points -> (K, 2) float64 pixels for a frame of (width, height)."""
    w, h = frame_size
    if w <= 0 or h <= 0:
        raise ValueError(f"frame_size must be positive (width, height), got {frame_size}")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts * np.array([w, h], dtype=np.float64)


class PolygonZone:
    """A (possibly concave) polygon in pixels with a vectorized inside test.

    The shapely geometry is prepared once, so testing all anchors of a frame is one C call
    (`shapely.contains_xy`) however many vertices the fence has.
    """

    def __init__(self, vertices_px: np.ndarray):
        self.vertices = np.asarray(vertices_px, dtype=np.float64).reshape(-1, 2)
        self.polygon = shapely.Polygon(self.vertices)
        shapely.prepare(self.polygon)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """(N,) bool: strictly inside; a point exactly on the outline counts as outside."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            return np.zeros(0, dtype=bool)
        return np.asarray(shapely.contains_xy(self.polygon, pts[:, 0], pts[:, 1]), dtype=bool)


def points_in_polygon(points: np.ndarray, polygon_px: np.ndarray) -> np.ndarray:
    """(N,) bool, one-shot form of `PolygonZone.contains` (build a PolygonZone to reuse)."""
    return PolygonZone(polygon_px).contains(points)


def segments(polyline_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends), each (M, 2), of a polyline's segments."""
    pl = np.asarray(polyline_px, dtype=np.float64).reshape(-1, 2)
    if len(pl) < 2:
        raise ValueError("a polyline needs at least 2 points")
    return pl[:-1], pl[1:]


def _per_segment(points: np.ndarray, m: int) -> np.ndarray:
    """Broadcastable (N, M, 2) view: (N, 2) points are tested against every segment, while
    (N, M, 2) points give one point per (track, segment) pair."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 2:
        return p[:, None, :]
    if p.ndim == 3 and p.shape[1] == m and p.shape[2] == 2:
        return p
    raise ValueError(f"points must be (N, 2) or (N, {m}, 2), got {p.shape}")


def signed_distances(points: np.ndarray, polyline_px: np.ndarray) -> np.ndarray:
    """(N, M) signed pixel distance of each point to each segment's infinite line.

    Positive on side A (left-hand side walking first -> last point as displayed), negative on
    side B, zero on the line. Whether the foot of the perpendicular falls within the segment is
    a separate question: see `segment_positions`.
    """
    a, b = segments(polyline_px)
    p = _per_segment(points, len(a))
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    rel = p - a
    cross = d[:, 0] * rel[..., 1] - d[:, 1] * rel[..., 0]  # > 0 on the right when y is down
    return -cross / length


def segment_positions(points: np.ndarray, polyline_px: np.ndarray) -> np.ndarray:
    """(N, M) projection parameter u of each point onto each segment.

    u = 0 at the segment's first point, 1 at its last; a point is within the segment's extent
    when 0 <= u <= 1.
    """
    a, b = segments(polyline_px)
    p = _per_segment(points, len(a))
    d = b - a
    return np.einsum("nmk,mk->nm", p - a, d) / np.einsum("mk,mk->m", d, d)


def crossing_positions(
    before: np.ndarray, after: np.ndarray, polyline_px: np.ndarray
) -> np.ndarray:
    """(N, M) where along each segment the straight step before -> after meets its line.

    `before` is (N, 2) or (N, M, 2), `after` is (N, 2). The result is the projection parameter u
    (see `segment_positions`) of the intersection point; NaN where the step is parallel to the
    line. A step crossed the segment itself when the sides differ and 0 <= u <= 1.
    """
    a, _ = segments(polyline_px)
    p0 = np.broadcast_to(_per_segment(before, len(a)), (len(after), len(a), 2))
    p1 = _per_segment(after, len(a))
    d0 = signed_distances(p0, polyline_px)
    d1 = signed_distances(np.broadcast_to(p1, p0.shape), polyline_px)
    with np.errstate(divide="ignore", invalid="ignore"):  # parallel steps give NaN, by design
        s = d0 / (d0 - d1)
        hit = p0 + s[..., None] * (p1 - p0)
        return segment_positions(hit, polyline_px)
