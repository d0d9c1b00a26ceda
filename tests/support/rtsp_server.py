"""A real GStreamer RTSP server on loopback for tests (see TESTING.md, RTSP section).

The server runs under Debian's /usr/bin/python3 (python3-gi + gir1.2-gst-rtsp-server-1.0),
not the project's venv, as `tests/support/rtsp_serve.py`. `stop()` kills it with SIGKILL, like a
camera losing power; `start()` brings it back on the same port.
"""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
SERVE_SCRIPT = Path(__file__).with_name("rtsp_serve.py")
_PROBE = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
          "from gi.repository import Gst, GstRtspServer")


@functools.cache
def rtsp_server_unavailable() -> str | None:
    """Why a GStreamer RTSP server cannot run here, or None when it can (probed once)."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (Debian python3 runs the GStreamer RTSP server)"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no error output"])[-1]
        return ("GStreamer RTSP server not importable by /usr/bin/python3 (apt-get install python3-gi "
                f"gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base/good/bad/ugly): {last}")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


class RtspServer:
    """`with RtspServer(file=path) as srv: srv.url` — or `pattern=True` for videotestsrc."""

    def __init__(self, file: Path | str | None = None, pattern: bool = False, port: int | None = None,
                 ready_timeout: float = 10.0):
        if (file is None) == (not pattern):
            raise ValueError("give either file= or pattern=True")
        why = rtsp_server_unavailable()
        if why:
            pytest.skip(why)
        self.file = Path(file) if file else None
        self.pattern = pattern
        self.port = port or free_port()
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def start(self) -> RtspServer:
        if self.proc is not None and self.proc.poll() is None:
            return self
        cmd = [SYSTEM_PYTHON, str(SERVE_SCRIPT), "--port", str(self.port)]
        cmd += ["--pattern"] if self.pattern else ["--file", str(self.file)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"RTSP server exited with {self.proc.returncode}: {err.strip()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"RTSP server did not listen on 127.0.0.1:{self.port} within {self.ready_timeout} s")

    def stop(self) -> None:
        """Kill the server at once (SIGKILL), as a camera that loses power."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(10)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
