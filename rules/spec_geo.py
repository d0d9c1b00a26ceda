"""Spec of the geofence rule kind: polygons in latitude/longitude, tested on ground positions.

Unlike the image fences (normalised frame coordinates), a geofence is drawn on a map, so one
fence means the same place for every camera or drone that sees it. `rules.config` re-exports the
spec and holds the `RuleSpec` union.
"""

from __future__ import annotations

from typing import Annotated, Literal

import shapely
from pydantic import AfterValidator, Field

from rules.spec_base import RuleBase

LatLon = tuple[float, float]


def check_geo_polygon(v: list[LatLon]) -> list[LatLon]:
    """A geofence polygon: >= 3 [lat, lon] points in range, simple, with area."""
    if len(v) < 3:
        raise ValueError(f"polygon needs at least 3 [lat, lon] points, got {len(v)}")
    bad_lat = [i for i, (lat, _) in enumerate(v) if not -90.0 <= lat <= 90.0]
    if bad_lat:
        raise ValueError(f"point(s) {bad_lat}: latitude outside [-90, 90] (points are [lat, lon])")
    bad_lon = [i for i, (_, lon) in enumerate(v) if not -180.0 <= lon <= 180.0]
    if bad_lon:
        raise ValueError(f"point(s) {bad_lon}: longitude outside [-180, 180]")
    # x = lon, y = lat: the plane the rule tests in (rules/geofence.py).
    poly = shapely.Polygon([(lon, lat) for lat, lon in v])
    if not shapely.is_valid(poly):
        raise ValueError(f"polygon is not simple: {shapely.is_valid_reason(poly)}")
    if poly.area <= 0:
        raise ValueError("polygon has no area (points are collinear or repeated)")
    return v


GeoPolygon = Annotated[list[LatLon], AfterValidator(check_geo_polygon)]


class GeofenceSpec(RuleBase):
    """Fires when a track's ground position enters, stays inside or leaves `polygons`.

    Needs ground positions: a camera with `calibration` in cameras.yaml, or a drone whose
    frames carry telemetry. Polygons must not cross the ±180° meridian.
    """

    kind: Literal["geofence"] = Field(description="Rule kind")
    polygons: list[GeoPolygon] = Field(
        min_length=1,
        description="One or more areas, each a list of [latitude, longitude] points (WGS84, "
        "concave allowed, not self-crossing); a position in any of them is inside",
    )
    trigger: Literal["enter", "inside", "exit"] = Field(
        default="enter",
        description="enter: a track seen outside is then inside for min_inside_s; inside: a "
        "track is inside for min_inside_s, also one first seen there; exit: a track that was "
        "inside for min_inside_s is then outside for min_outside_s",
    )
    min_inside_s: float = Field(
        default=1.0,
        ge=0,
        description="Seconds inside before the track counts as inside (hysteresis; the dwell of "
        "trigger inside)",
    )
    min_outside_s: float = Field(
        default=0.5,
        ge=0,
        description="Seconds outside before the track counts as outside again (hysteresis): a "
        "position jittering on the outline never counts twice",
    )
