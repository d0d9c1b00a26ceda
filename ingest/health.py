"""Stream health as the supervisor sees it, and the Prometheus metrics that export it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from prometheus_client import Counter, Enum

STATES = ["connecting", "live", "stalled", "lost", "ended"]

FRAMES_IN = Counter("lookout_ingest_frames_in", "Frames handed from decoders to analysis", ["camera"])
FRAMES_DROPPED = Counter("lookout_ingest_frames_dropped",
                         "Frames dropped because the shared-memory ring or hand-off queue was full", ["camera"])
FRAMES_INVALID = Counter("lookout_ingest_frames_invalid",
                         "Frames refused because they held no usable image (empty, undecodable)", ["camera"])
RECONNECTS = Counter("lookout_ingest_reconnects", "Stream reconnections after a lost stream", ["camera"])
OPEN_FAILURES = Counter("lookout_ingest_open_failures",
                        "Attempts to open a stream that failed (refused, not a stream, timed out)", ["camera"])
RESTARTS = Counter("lookout_ingest_restarts", "Decoder processes restarted after a crash", ["camera"])
STREAM_STATE = Enum("lookout_ingest_stream_state", "Current stream state", ["camera"], states=STATES)


@dataclass
class StreamHealth:
    """One camera's state and counters (counters add up over decoder restarts)."""

    camera_id: str
    state: str = "connecting"
    fps_in: float = 0.0  # frames per second reaching the supervisor, over the last few seconds
    frames: int = 0
    dropped: int = 0
    invalid: int = 0  # frames refused: no usable image (empty, undecodable)
    reconnects: int = 0
    open_failures: int = 0  # failed attempts to open the stream
    restarts: int = 0
    last_frame_at: float | None = None  # t_wall (epoch seconds) of the newest frame
    pid: int | None = None  # the current decoder process
    error: str | None = None  # last error a decoder reported
    reason: str = ""  # why the stream last changed state, e.g. "cannot open stream: ..."

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class HealthMetrics:
    """Moves a camera's StreamHealth into the Prometheus metrics (counters only go up)."""

    def __init__(self, camera_id: str):
        self.camera_id = camera_id
        self._seen = {"frames": 0, "dropped": 0, "invalid": 0, "reconnects": 0, "open_failures": 0, "restarts": 0}

    def update(self, h: StreamHealth) -> None:
        for name, metric in (("frames", FRAMES_IN), ("dropped", FRAMES_DROPPED), ("invalid", FRAMES_INVALID),
                             ("reconnects", RECONNECTS), ("open_failures", OPEN_FAILURES),
                             ("restarts", RESTARTS)):
            value = getattr(h, name)
            if value > self._seen[name]:
                metric.labels(camera=self.camera_id).inc(value - self._seen[name])
                self._seen[name] = value
        STREAM_STATE.labels(camera=self.camera_id).state(h.state if h.state in STATES else "lost")
