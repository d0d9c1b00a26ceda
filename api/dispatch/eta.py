"""Travel-time estimate: great-circle distance × detour factor / speed.

A straight line with a detour factor is the default model DESIGN.md asks for; a configured road
graph (`api.dispatch.roads`, dispatch.yaml `roads:`) replaces it in `selection.rank`, and `method`
says which one an ETA came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Eta:
    seconds: float | None  # None: unknown (no usable position)
    distance_m: float | None
    source: Literal["live", "post"] | None
    # straight: line × detour factor; road: the road graph; straight_fallback: a graph is
    # configured but could not place this unit or the scene (too far from any node, no path).
    method: Literal["straight", "road", "straight_fallback"] = "straight"


UNKNOWN = Eta(None, None, None)


def estimate(
    *,
    target: tuple[float, float] | None,
    live: tuple[float, float] | None,
    live_at: float | None,
    post: tuple[float, float] | None,
    speed_mps: float,
    now: float,
    detour_factor: float,
    stale_s: float,
) -> Eta:
    """ETA from the live position when fresh, else from the duty post, else unknown.

    A stale live position is ignored, not trusted: a unit that stopped reporting may be anywhere,
    while its post is where it is supposed to be.
    """
    if target is None or speed_mps <= 0:
        return UNKNOWN
    origin, source = None, None
    if live is not None and live_at is not None and now - live_at <= stale_s:
        origin, source = live, "live"
    elif post is not None:
        origin, source = post, "post"
    if origin is None:
        return UNKNOWN
    d = haversine_m(origin[0], origin[1], target[0], target[1]) * detour_factor
    return Eta(d / speed_mps, d, source)  # type: ignore[arg-type]
