"""Drone telemetry: samples over MQTT or from a JSON-lines sidecar, the sample nearest a frame,
and the ground point an image pixel looks at.

A frame of a drone camera gets `meta["telemetry"]` = the sample nearest in time (with `dt_s`,
frame time minus sample time), so rules and alerts can map image points to the ground with
`ground_point`. Sample time `t` must be on the frame's clock: Unix seconds for live video and
real-time playback (what a drone's telemetry uses), media seconds for a non-real-time replay.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules.sensor_events import SensorPayloadError

EARTH_RADIUS_M = 6_371_008.8  # mean radius; the flat-earth model is good to ~0.1 % within a few km


class TelemetrySample(BaseModel):
    """One telemetry message (docs/sensors.md, "Drone telemetry")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    t: float = Field(description="Sample time, seconds on the video's clock (Unix seconds live)")
    lat: float = Field(ge=-90, le=90, description="Drone latitude, WGS84")
    lon: float = Field(ge=-180, le=180, description="Drone longitude, WGS84")
    alt_m: float = Field(gt=0, le=10_000, description="Height above the ground under the drone, metres")
    heading_deg: float = Field(ge=-360, le=360, description="Aircraft heading, degrees clockwise from north")
    gimbal_pitch_deg: float = Field(ge=-90, le=30, description="Camera pitch: 0 = horizon, -90 = straight down")
    gimbal_yaw_deg: float = Field(default=0.0, ge=-360, le=360, description="Camera yaw relative to the heading")
    hfov_deg: float = Field(gt=1, lt=179, description="Horizontal field of view of the current zoom, degrees")


def parse_telemetry(raw: bytes | str | dict, drone_id: str | None = None) -> TelemetrySample:
    try:
        data = raw if isinstance(raw, dict) else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SensorPayloadError("not_json", str(exc)[:120], drone_id) from None
    if not isinstance(data, dict):
        raise SensorPayloadError("not_object", f"JSON {type(data).__name__}, expected an object", drone_id)
    try:
        return TelemetrySample.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        raise SensorPayloadError("invalid", f"{where}: {err['msg']}", drone_id) from None


class TelemetryTrack:
    """Recent samples of one drone, ordered by time; bounded by `keep_s` behind the newest."""

    def __init__(self, keep_s: float = 120.0, max_gap_s: float = 2.0):
        self.keep_s = keep_s
        self.max_gap_s = max_gap_s
        self._t: list[float] = []
        self._samples: list[TelemetrySample] = []
        self._lock = threading.Lock()  # the MQTT thread adds, the frame loop reads

    def __len__(self) -> int:
        return len(self._t)

    def add(self, s: TelemetrySample) -> None:
        with self._lock:
            i = bisect.bisect_right(self._t, s.t)  # messages may arrive out of order
            self._t.insert(i, s.t)
            self._samples.insert(i, s)
            cut = bisect.bisect_left(self._t, self._t[-1] - self.keep_s)
            if cut:
                del self._t[:cut], self._samples[:cut]

    def nearest(self, t: float) -> TelemetrySample | None:
        """The sample nearest to `t`, or None when none is within `max_gap_s`."""
        with self._lock:
            i = bisect.bisect_left(self._t, t)
            best = min((j for j in (i - 1, i) if 0 <= j < len(self._t)), key=lambda j: abs(self._t[j] - t), default=None)
            if best is None or abs(self._t[best] - t) > self.max_gap_s:
                return None
            return self._samples[best]

    @classmethod
    def from_sidecar(cls, path: Path | str, max_gap_s: float = 2.0) -> TelemetryTrack:
        """Every line of a JSON-lines file (a recorded flight); a bad line names its number."""
        track = cls(keep_s=math.inf, max_gap_s=max_gap_s)
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        track.add(parse_telemetry(line))
                    except SensorPayloadError as exc:
                        raise ValueError(f"{path}:{n}: {exc}") from None
        return track


def stamp(meta: dict, frame_t: float, track: TelemetryTrack) -> dict | None:
    """Put the nearest sample into a frame's `meta["telemetry"]`; returns it (None if too far)."""
    s = track.nearest(frame_t)
    if s is None:
        return None
    meta["telemetry"] = tel = s.model_dump() | {"dt_s": round(frame_t - s.t, 4)}
    return tel


def ground_point(s: TelemetrySample, u: float, v: float, width: int, height: int) -> tuple[float, float] | None:
    """(lat, lon) where pixel (u, v) of a `width`×`height` image meets flat ground, or None
    when the pixel looks at or above the horizon.

    Pinhole camera with square pixels and the principal point at the image centre; the camera
    sits `alt_m` above a flat ground, looks along heading + gimbal yaw, pitched by gimbal pitch,
    without roll (gimbals keep the horizon level).
    """
    f = (width / 2) / math.tan(math.radians(s.hfov_deg) / 2)
    x, y = (u - width / 2) / f, (v - height / 2) / f  # right, down, in units of the focal length
    yaw = math.radians(s.heading_deg + s.gimbal_yaw_deg)
    dip = math.radians(-s.gimbal_pitch_deg)  # angle of the optical axis below the horizon
    h_dir = (math.sin(yaw), math.cos(yaw), 0.0)  # east, north, up
    right = (math.cos(yaw), -math.sin(yaw), 0.0)
    forward = (math.cos(dip) * h_dir[0], math.cos(dip) * h_dir[1], -math.sin(dip))
    up = (math.sin(dip) * h_dir[0], math.sin(dip) * h_dir[1], math.cos(dip))
    ray = [forward[k] + x * right[k] - y * up[k] for k in range(3)]
    if ray[2] >= -1e-9:
        return None
    scale = s.alt_m / -ray[2]
    east, north = ray[0] * scale, ray[1] * scale
    lat = s.lat + math.degrees(north / EARTH_RADIUS_M)
    lon = s.lon + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(s.lat))))
    return lat, lon
