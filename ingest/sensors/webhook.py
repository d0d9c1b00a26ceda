"""HTTP webhook for sensors that cannot speak MQTT: a small token-protected server in the worker.

`POST {path}/<sensor_id>` (or `POST {path}` with `sensor_id` in the body), JSON body as in
docs/sensors.md, header `Authorization: Bearer <token>`. Answers: 202 accepted, 400 with the
reason (bad payload), 401 (no or wrong token), 404 (other path), 411/413 (length), 405. The
standard library's threading server is enough here (a few requests a second); it keeps the
worker free of the API's web stack.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rules.sensor_events import MAX_PAYLOAD_BYTES, SensorPayloadError

from ingest.sensors.config import WebhookConfig
from ingest.sensors.intake import SensorIntake

log = logging.getLogger("lookout.sensors.webhook")



class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args) -> None:  # the stdlib logs every request to stderr
        log.debug("%s " + fmt, self.client_address[0], *args)

    def _answer(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(405, {"error": "method_not_allowed", "detail": "POST sensor events"})

    def do_POST(self) -> None:
        srv = self.server
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == srv.path:
            sensor_id = None
        elif path.startswith(srv.path + "/") and "/" not in path[len(srv.path) + 1:]:
            sensor_id = path[len(srv.path) + 1:]
        else:
            self._drain()
            return self._answer(404, {"error": "not_found"})
        auth = self.headers.get("Authorization", "")
        given = auth[7:] if auth.startswith("Bearer ") else ""
        if not hmac.compare_digest(given.encode(), srv.token.encode()):
            srv.unauthorized += 1
            log.warning("webhook: request for sensor %s from %s without a valid token", sensor_id or "?", self.client_address[0])
            self._drain()
            return self._answer(401, {"error": "unauthorized"})
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            return self._answer(411, {"error": "length_required"})
        if int(length) > MAX_PAYLOAD_BYTES:
            self.close_connection = True  # do not read a body we refuse
            srv.intake.reject("webhook", SensorPayloadError("too_large", f"{length} bytes", sensor_id))
            return self._answer(413, {"error": "too_large", "detail": f"body over {MAX_PAYLOAD_BYTES} bytes"})
        body = self.rfile.read(int(length))
        try:
            srv.intake.submit(body, source="webhook", sensor_id=sensor_id)
        except SensorPayloadError as exc:
            return self._answer(400, {"error": exc.reason, "detail": exc.detail})
        except Exception:  # our bug: the caller gets a 500, the server keeps serving
            log.exception("webhook: sensor %s: event could not be handled", sensor_id or "?")
            return self._answer(500, {"error": "internal"})
        self._answer(202, {"accepted": True})

    def _drain(self) -> None:
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) <= MAX_PAYLOAD_BYTES:
            self.rfile.read(int(length))
        else:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    path: str
    token: str
    intake: SensorIntake
    unauthorized: int = 0


class WebhookAdapter:
    """`start()` binds and serves in a thread; `port` is the bound port (config port 0 = free)."""

    def __init__(self, cfg: WebhookConfig, intake: SensorIntake, token: str | None = None):
        token = token if token is not None else os.environ.get(cfg.token_env, "")
        if len(token) < 16:
            raise ValueError(f"webhook token missing or shorter than 16 characters: set {cfg.token_env}")
        self.cfg = cfg
        self._server = _Server((cfg.host, cfg.port), _Handler)
        self._server.path = cfg.path.rstrip("/")
        self._server.token = token
        self._server.intake = intake
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.port}{self._server.path}"

    @property
    def unauthorized(self) -> int:
        return self._server.unauthorized

    def start(self) -> WebhookAdapter:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sensor-webhook", daemon=True)
        self._thread.start()
        log.info("sensor webhook listening on %s", self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
