"""Image → ground mapping for a fixed camera: a homography fitted to reference points.

An engineer clicks four or more points in the image whose latitude/longitude are known (corners
of a plaza, lamp posts). We fit the image→ground-plane homography in a local metric frame
(east/north metres around the points' centroid), so speeds come out in m/s and positions as
lat/lon for geo-fences and the dispatcher's ETA.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

EARTH_RADIUS_M = 6_371_008.8


class GeoRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: tuple[float, float] = Field(description="Point in the frame, normalised 0..1 (x right, y down)")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class CalibrationConfig(BaseModel):
    """Reference points of one camera (at least four, not all on one line)."""

    model_config = ConfigDict(extra="forbid")
    points: list[GeoRef] = Field(min_length=4, description="Image points with known lat/lon")

    @model_validator(mode="after")
    def _not_degenerate(self) -> "CalibrationConfig":
        img = np.array([p.image for p in self.points], dtype=np.float64)
        centred = img - img.mean(axis=0)
        if np.linalg.matrix_rank(centred, tol=1e-6) < 2:
            raise ValueError("calibration points lie on one line; use points spread over the ground")
        return self


class GroundMapper:
    """Maps pixel points of one frame size to metres (east, north) and to lat/lon."""

    def __init__(self, cfg: CalibrationConfig, frame_size: tuple[int, int]):
        width, height = frame_size
        self.frame_size = frame_size
        lat = np.array([p.lat for p in cfg.points])
        lon = np.array([p.lon for p in cfg.points])
        self.lat0, self.lon0 = float(lat.mean()), float(lon.mean())
        ground = self._geo_to_local(lat, lon)
        image = np.array([p.image for p in cfg.points], dtype=np.float64) * [width, height]
        # Least squares over all points (method 0): reference points are few and hand-picked.
        H, _ = cv2.findHomography(image, ground, 0)
        if H is None:
            raise ValueError("cannot fit a homography to these calibration points")
        self.H = H
        self.reprojection_error_m = float(np.sqrt(((self.image_to_ground(image) - ground) ** 2).sum(axis=1)).max())

    def _geo_to_local(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        # Equirectangular around the centroid: error < 1 cm over a few hundred metres.
        k = math.pi / 180 * EARTH_RADIUS_M
        east = (np.asarray(lon) - self.lon0) * k * math.cos(math.radians(self.lat0))
        north = (np.asarray(lat) - self.lat0) * k
        return np.stack([east, north], axis=1)

    def image_to_ground(self, points_px: np.ndarray) -> np.ndarray:
        """(N, 2) pixels → (N, 2) metres east/north of the reference centroid."""
        pts = np.asarray(points_px, dtype=np.float64).reshape(-1, 1, 2)
        if len(pts) == 0:
            return np.zeros((0, 2))
        return cv2.perspectiveTransform(pts, self.H).reshape(-1, 2)

    def image_to_geo(self, points_px: np.ndarray) -> np.ndarray:
        """(N, 2) pixels → (N, 2) latitude, longitude."""
        ground = self.image_to_ground(points_px)
        k = math.pi / 180 * EARTH_RADIUS_M
        lat = self.lat0 + ground[:, 1] / k
        lon = self.lon0 + ground[:, 0] / (k * math.cos(math.radians(self.lat0)))
        return np.stack([lat, lon], axis=1)
