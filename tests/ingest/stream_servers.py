"""Small real servers on loopback for ingest tests: an HTTP MJPEG camera and a bad RTSP port.

`MjpegServer` serves `multipart/x-mixed-replace` JPEG parts of the generated scene, like an IP
camera's MJPEG endpoint; `stop()` closes the port and every open stream (a camera losing power)
and `start()` serves again on the same port. `zero_length=True` sends parts with no bytes (a
camera whose encoder died but whose web server still runs); `zero_after=N` does that after N
good parts of every connection. `GarbageServer` accepts TCP
connections on an "RTSP" port and answers each with random text, then holds or closes.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

from ingest.generated import SceneRenderer
from tests.support.rtsp_server import free_port

BOUNDARY = "lookoutframe"


class MjpegServer:
    """`with MjpegServer() as srv: srv.url` — `http://127.0.0.1:PORT/video.mjpg`."""

    def __init__(self, fps: float = 10.0, width: int = 320, height: int = 240, port: int | None = None,
                 zero_length: bool = False, zero_after: int | None = None):
        self.fps = fps
        self.port = port or free_port()
        self.zero_length = zero_length
        self.zero_after = zero_after  # send this many good parts per connection, then empty ones
        renderer = SceneRenderer(width, height)
        # A few seconds of the scene, encoded once: serving must not compete with the decoder.
        self.parts = [cv2.imencode(".jpg", renderer.render(i / fps, i), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
                      for i in range(int(fps * 4))]
        self.requests = 0
        self.parts_sent = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                server.requests += 1
                if self.path != "/video.mjpg":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                i = 0
                try:
                    while not server._stop.is_set():
                        empty = server.zero_length or (server.zero_after is not None and i >= server.zero_after)
                        body = b"" if empty else server.parts[i % len(server.parts)]
                        self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body + b"\r\n")
                        self.wfile.flush()
                        server.parts_sent += 1
                        i += 1
                        server._stop.wait(1.0 / server.fps)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client went away

        return Handler

    def start(self) -> MjpegServer:
        self._stop.clear()
        deadline = time.monotonic() + 10
        while True:
            try:
                self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
                break
            except OSError:  # the old socket may linger a moment after stop()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="mjpeg-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port and end every stream being served."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class GarbageServer:
    """A TCP port that answers every connection with random printable text.

    `hold=True` keeps the connection open after the text (a wedged device); otherwise it closes.
    `connections` counts accepted connections (each reconnect attempt of a client is one).
    """

    def __init__(self, hold: bool = False, port: int | None = None):
        self.hold = hold
        self.port = port or free_port()
        self.connections = 0
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._rng = np.random.default_rng(3)

    def url(self, path: str = "/stream") -> str:
        return f"rtsp://127.0.0.1:{self.port}{path}"

    def start(self) -> GarbageServer:
        self._sock = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._sock.settimeout(0.1)
        threading.Thread(target=self._serve, name="garbage-server", daemon=True).start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            text = bytes(self._rng.integers(32, 127, size=512, dtype=np.uint8)) + b"\r\n\r\n"
            try:
                conn.sendall(text)
            except OSError:
                pass
            if self.hold:
                self._held.append(conn)
            else:
                conn.close()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        for conn in self._held:
            conn.close()

    def __enter__(self) -> GarbageServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
