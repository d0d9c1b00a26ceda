"""Stopping the real servers tests start (brokers, S3, Mosquitto): a kill, not a shutdown."""

from __future__ import annotations

import subprocess


def kill(proc: subprocess.Popen | None) -> None:
    """SIGKILL `proc` if it still runs and reap it (None: nothing was started)."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
