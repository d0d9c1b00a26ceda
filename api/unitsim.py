"""A simulated patrol unit: listens on its SSE stream and answers orders like a crew would.

For the demo and end-to-end tests: `lookout unit-sim --unit-id patrol-1 --token T`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
from rich.console import Console


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs from SSE lines; comments and retry lines are skipped."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def _secs(v: float | None) -> str:
    return "unknown" if v is None else f"{v:.0f}s"


@dataclass
class UnitSim:
    unit_id: str
    token: str
    url: str = "http://127.0.0.1:8080"
    ack_after: float = 2.0
    arrive_after: float = 0.0  # 0: acknowledge only; >0: en_route at once, on_scene after this
    resolve_after: float = 0.0  # 0: leave resolving to people; >0: resolve this long after on_scene
    console: Console = field(default_factory=lambda: Console(stderr=True))
    sleep: Callable[[float], None] = time.sleep
    stop: threading.Event = field(default_factory=threading.Event)
    _seen: set[int] = field(default_factory=set)

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def run(self) -> None:
        """Stream, handle, reconnect with backoff until `stop` is set."""
        backoff = 0.5
        while not self.stop.is_set():
            try:
                self.stream_once()
                backoff = 0.5
            except (httpx.HTTPError, OSError) as exc:
                self.console.log(f"[yellow]{self.unit_id}: stream lost ({exc}); retry in {backoff:.1f}s")
            if self.stop.wait(backoff):
                break
            backoff = min(backoff * 2, 30.0)

    def stream_once(self) -> None:
        url = f"{self.url}/api/units/{self.unit_id}/stream"
        with httpx.Client(timeout=httpx.Timeout(10.0, read=60.0)) as client:
            with client.stream("GET", url, headers=self._headers) as resp:
                if resp.status_code in (401, 403):
                    self.console.log(f"[red]{self.unit_id}: refused ({resp.status_code}); check the token")
                    self.stop.set()
                    return
                resp.raise_for_status()
                self.console.log(f"[green]{self.unit_id}: connected")
                for event, data in parse_sse(self._lines(resp)):
                    if event == "order":
                        self.on_order(json.loads(data)["order"])

    def _lines(self, resp: httpx.Response) -> Iterator[str]:
        # The server's keepalive comments end each blocking read, so a stop takes effect promptly.
        for line in resp.iter_lines():
            if self.stop.is_set():
                return
            yield line

    def on_order(self, order: dict) -> None:
        if order["state"] not in ("pending", "notified") or order["id"] in self._seen:
            return
        self._seen.add(order["id"])
        self.console.log(f"{self.unit_id}: order {order['id']} tier {order['tier']} "
                         f"zone {order.get('zone')} eta {_secs(order.get('eta_s'))}")
        threading.Thread(target=self._respond, args=(order["id"],), daemon=True).start()

    def _respond(self, order_id: int) -> None:
        steps = [(self.ack_after, "acknowledge")]
        if self.arrive_after > 0:
            steps += [(0.0, "en_route"), (self.arrive_after, "on_scene")]
            if self.resolve_after > 0:
                steps.append((self.resolve_after, "resolve"))
        for delay, action in steps:
            if delay and self.stop.wait(delay):
                return
            r = httpx.post(f"{self.url}/api/orders/{order_id}/{action}", headers=self._headers, timeout=10)
            if r.status_code != 200:
                self.console.log(f"[red]{self.unit_id}: {action} order {order_id} → {r.status_code} {r.text}")
                return
            self.console.log(f"{self.unit_id}: order {order_id} → {r.json()['state']}")
