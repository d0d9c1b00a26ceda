"""Dispatch benchmarks: decision time, open incidents with live timers, SSE fan-out.

    .venv/bin/python bench/dispatch.py [--responders 10000] [--decisions 300] [--incidents 1000]
        [--units 1000] [--db-url sqlite:///...] [--skip-fanout | --fanout-only] [--transport sse|ws|both]

1. Decision: `selection.select` (the pick of the best units of a tier) over `--responders`
   units (a third tier 1, a third tier 2, a third tier 3; half with fresh live positions), p50/p99
   over `--decisions` random incident places; before/after in one run: the per-decision candidate
   query + ranking vs the in-memory responder index + ranking; and the whole `handle_alert`
   transaction (store row, grouping, candidates, orders, audit) on the store given by `--db-url`.
2. Open incidents: `--incidents` incidents with their orders open at once; `tick()` p50/p99 while
   none is due (and with `--expire` the tick that expires them all); CPU seconds and peak RSS.
3. Fan-out: uvicorn serves the app in this process; a child process opens `--units` unit SSE
   streams (or WebSockets, `--transport ws|both`); one order event per unit is published through
   the push hub; latency from publish to receipt per unit (the child stamps arrival; one machine,
   so clocks agree), p50/p99/max, and the CPU time of publisher, server loop and clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.config import DispatchFile, Policy, Responder  # noqa: E402
from api.dispatch import selection  # noqa: E402
from api.dispatch.engine import DispatchEngine  # noqa: E402
from api.dispatch.selection import RANK_COLUMNS  # noqa: E402
from api.store import ResponderRow, make_session_factory, migrate  # noqa: E402
from tests.api.conftest import make_alert  # noqa: E402

CENTRE = (31.2304, 121.4737)
TYPES = ["guard", "patrol_car", "station_force"]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def ms(xs: list[float]) -> str:
    return f"p50 {pct(xs, 0.5) * 1e3:.2f} ms, p99 {pct(xs, 0.99) * 1e3:.2f} ms (n={len(xs)})"


def responders(n: int, rng: random.Random) -> list[Responder]:
    return [Responder(id=f"u{i:05d}", name=f"unit {i}", type=TYPES[i % 3],
                      post={"lat": CENTRE[0] + rng.uniform(-0.1, 0.1), "lon": CENTRE[1] + rng.uniform(-0.1, 0.1)})
            for i in range(n)]


def config() -> DispatchFile:
    return DispatchFile(policies={"high": Policy(tiers=[1, 2, 3], ack_deadline_s=30)})


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def bench_decision(db_url: str, n: int, decisions: int) -> None:
    rng = random.Random(3)
    migrate(db_url)
    sessions = make_session_factory(db_url)
    clock = Clock()
    eng = DispatchEngine(sessions, config(), clock)
    eng.upsert_responders(responders(n, rng))
    for i in range(0, n, 2):  # half report live positions
        eng.update_position(f"u{i:05d}", CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.1, 0.1))
    from sqlalchemy import select

    by_tier = {}
    with sessions() as s:
        for tier in (1, 2, 3):
            # What the engine's candidate query returns: the tier's available units, as column rows.
            by_tier[tier] = list(s.execute(select(*(getattr(ResponderRow, c) for c in RANK_COLUMNS))
                                           .where(ResponderRow.tier == tier, ResponderRow.status == "available")))
    pure, pure_cpu, query, before, after, after_cpu = [], [], [], [], [], []
    eng.index.units(1)  # first load of the in-memory index (startup cost, not per decision)
    for _ in range(decisions):
        target = (CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.1, 0.1))
        tier = rng.choice([1, 2, 3])
        kw = dict(tier=tier, target=target, now=clock(), detour_factor=1.3, stale_s=300, exclude={"u00001", "u00002"})
        t0, c0 = time.perf_counter(), time.thread_time()
        selection.select(by_tier[tier], 1, **kw)
        pure.append(time.perf_counter() - t0)
        pure_cpu.append(time.thread_time() - c0)
        # Before: the per-decision candidate query, then the ranking of its rows.
        t0 = time.perf_counter()
        with sessions() as s:
            rows = list(s.execute(select(*(getattr(ResponderRow, c) for c in RANK_COLUMNS))
                                  .where(ResponderRow.tier == tier, ResponderRow.status == "available")))
        query.append(time.perf_counter() - t0)
        selection.select(rows, 1, **kw)
        before.append(time.perf_counter() - t0)
        # After: the tier's arrays from the in-memory responder index, then the same ranking.
        t0, c0 = time.perf_counter(), time.thread_time()
        selection.select(eng.index.units(tier), 1, **kw)
        after.append(time.perf_counter() - t0)
        after_cpu.append(time.thread_time() - c0)
    # CPU time besides wall time: on a shared, loaded machine the wall clock mostly measures the queue.
    print(f"decision: ranking one tier's ~{n // 3} available units of {n}: wall {ms(pure)}; CPU {ms(pure_cpu)}")
    print(f"  + the candidate query that loads them ({db_url.split(':')[0]}): {ms(query)}")
    print(f"decision before (query + rank): wall {ms(before)}")
    print(f"decision after (in-memory responder index + rank): wall {ms(after)}; CPU {ms(after_cpu)}")
    reload = []
    for _ in range(5):  # what a changed version (another instance's write) costs, at most every refresh_s
        eng.index.invalidate()
        t0 = time.perf_counter()
        eng.index.units(1)
        reload.append(time.perf_counter() - t0)
    print(f"  index full reload of {n} units (version changed): {ms(reload)}")
    full, full_cpu = [], []
    for i in range(decisions):
        clock.t += 1
        a = make_alert(source=f"cam-{i}", severity="high", observed=clock(), track=i,
                       lat=CENTRE[0] + rng.uniform(-0.1, 0.1), lon=CENTRE[1] + rng.uniform(-0.1, 0.1))
        t0, c0 = time.perf_counter(), time.thread_time()
        eng.handle_alert(a)
        full.append(time.perf_counter() - t0)
        full_cpu.append(time.thread_time() - c0)
    print(f"handle_alert, 3 tiers, {n} responders, {db_url.split(':')[0]}: wall {ms(full)}; CPU {ms(full_cpu)}")
    sessions.kw["bind"].dispose()


def bench_open_incidents(db_url: str, incidents: int, expire: bool) -> None:
    rng = random.Random(5)
    migrate(db_url)
    sessions = make_session_factory(db_url)
    clock = Clock()
    eng = DispatchEngine(sessions, config(), clock)
    eng.upsert_responders(responders(incidents * 3 + 300, rng))
    cpu0 = time.process_time()
    for i in range(incidents):
        eng.handle_alert(make_alert(source=f"cam-{i}", severity="high", observed=clock(), track=i,
                                    lat=CENTRE[0] + rng.uniform(-0.1, 0.1), lon=CENTRE[1] + rng.uniform(-0.1, 0.1)))
    cpu_open = time.process_time() - cpu0
    ticks = []
    cpu0 = time.process_time()
    for _ in range(200):
        clock.t += 0.1
        t0 = time.perf_counter()
        eng.tick()
        ticks.append(time.perf_counter() - t0)
    cpu_ticks = time.process_time() - cpu0
    from api.store import OrderRow

    print(f"{incidents} open incidents, {eng.count(OrderRow)} open orders with deadlines: opening them took "
          f"{cpu_open:.1f} s CPU")
    print(f"tick with nothing due: {ms(ticks)}; 200 ticks = {cpu_ticks:.2f} s CPU")
    if expire:
        clock.t += 31
        t0 = time.perf_counter()
        changed = eng.tick()
        print(f"tick that expires every order ({changed} changed, replacements ordered): "
              f"{time.perf_counter() - t0:.1f} s")
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    sessions.kw["bind"].dispose()


# ---- fan-out ----------------------------------------------------------------------------------

def _client_proc(url: str, units: int, transport: str, as_units: bool, ready, results) -> None:  # noqa: ANN001
    """Raw asyncio sockets, not httpx or the websockets client: with 1,000 streams in one Python
    process the client's own parsing would dominate what is measured (httpx measured ~5 s p50
    here, mostly client side)."""
    from urllib.parse import urlparse

    u = urlparse(url)

    def token(unit: str) -> str:
        return f"bench-{unit}" if as_units else "bench-op"

    def arrived(payload: bytes, got: list[float]) -> bool:
        if b'"bench_sent"' not in payload:
            return False
        got.append(time.time() - json.loads(payload[payload.index(b"{"):])["bench_sent"])
        return True

    async def sse(unit: str, got: list[float], connected: list[int]) -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        writer.write(f"GET /api/units/{unit}/stream HTTP/1.1\r\nHost: {u.netloc}\r\n"
                     f"Authorization: Bearer {token(unit)}\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        await reader.readuntil(b"retry:")  # the first body bytes: subscribed and its backlog sent
        connected.append(1)
        while True:
            line = await reader.readline()
            if not line or arrived(line, got):
                return writer

    async def ws(unit: str, got: list[float], connected: list[int]) -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        writer.write(f"GET /api/units/{unit}/ws HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token(unit)}\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise SystemExit(f"websocket refused: {head[:80]!r}")
        while True:  # server frames are unmasked; the bench needs only text frames' payloads
            b0, b1 = await reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(await reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(n)
            if b'"type":"ready"' in payload:  # subscribed and its backlog sent
                connected.append(1)
            elif arrived(payload, got) or b0 & 0x0F == 8:
                return writer

    async def main() -> None:
        got: list[float] = []
        connected: list[int] = []
        one = ws if transport == "ws" else sse
        tasks = [asyncio.create_task(one(f"u{i:05d}", got, connected)) for i in range(units)]
        while len(connected) < units:
            await asyncio.sleep(0.05)
        ready.set()
        cpu0 = time.process_time()
        await asyncio.wait(tasks, timeout=120)
        results.put((got, time.process_time() - cpu0))
        # Hang up only after everyone has its event: closing handshakes would compete with delivery.
        for t in tasks:
            if t.done() and not t.exception():
                t.result().close()
        await asyncio.sleep(0.5)

    asyncio.run(main())


def _orders_for_units(sessions, units: int) -> None:  # noqa: ANN001
    """One incident with a pending order per unit (ids 1..units), so receipts and `notified` are real."""
    from api.store import IncidentRow, OrderRow

    now = time.time()
    with sessions() as s, s.begin():
        s.add(IncidentRow(id=1, source_id="bench", severity="high", status="open", opened_at=now,
                          last_observed_at=now, alert_count=1))
        s.add_all(OrderRow(id=i + 1, incident_id=1, responder_id=f"u{i:05d}", tier=1, state="pending",
                           created_at=now, updated_at=now, ack_deadline_at=now + 600, arrival_deadline_at=now + 900)
                  for i in range(units))


def _pending(sessions) -> int:  # noqa: ANN001
    from sqlalchemy import func, select

    from api.store import OrderRow

    with sessions() as s:
        return s.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.state == "pending")) or 0


def bench_fanout(units: int, transport: str = "sse", as_units: bool = False) -> None:
    """`as_units`: each stream opened with its unit's own token and the event a new (pending)
    order, so delivery also records a receipt and moves the order to notified, as in service."""
    from api.app import create_app
    from api.settings import Settings
    from tests.api.server import serve

    tmp = Path(tempfile.mkdtemp(prefix="lookout-bench-"))
    (tmp / "configs").mkdir()
    st = Settings(db_url=f"sqlite:///{tmp / 'db.sqlite'}", bus_url=f"embedded:///{tmp.as_posix().lstrip('/')}/bus.db",
                  config_dir=tmp / "configs", data_dir=tmp, dispatcher_enabled=False, sse_keepalive_s=30,
                  tokens={"bench-op": {"role": "operator", "subject": "bench"},
                          **({f"bench-u{i:05d}": {"role": "unit", "subject": f"u{i:05d}"} for i in range(units)}
                             if as_units else {})})
    app = create_app(st, start_background=False)
    with serve(app) as url:
        ctx = mp.get_context("spawn")
        ready, results = ctx.Event(), ctx.Queue()
        p = ctx.Process(target=_client_proc, args=(url, units, transport, as_units, ready, results))
        p.start()
        if not ready.wait(180):
            raise SystemExit("clients did not connect")
        hub = app.state.hub
        if as_units:
            _orders_for_units(app.state.sessions, units)
        deadline = time.monotonic() + 180
        # Every stream subscribed (the clients' "connected" is only "request written").
        while sum(hub.subscriber_count(f"u{i:05d}") for i in range(units)) < units:
            if time.monotonic() > deadline:
                raise SystemExit("streams did not subscribe")
            time.sleep(0.1)
        time.sleep(1.0)  # let every stream send its (empty) replay
        cpu0 = time.process_time()
        t0, pub_cpu0 = time.perf_counter(), time.thread_time()
        for i in range(units):
            hub.publish({"type": "order", "incident_id": 0, "bench_sent": time.time(),
                         "order": {"id": i + 1, "responder_id": f"u{i:05d}",
                                   "state": "pending" if as_units else "notified"}})
        publish_s, pub_cpu = time.perf_counter() - t0, time.thread_time() - pub_cpu0
        got, client_cpu = results.get(timeout=180)
        cpu = time.process_time() - cpu0  # publisher + server threads until the client reported
        # The store work deliveries cause (receipts, pending → notified) may finish later; count it too.
        while as_units and _pending(app.state.sessions):
            time.sleep(0.05)
        app.state.receipts.flush(60)
        cpu_store = time.process_time() - cpu0
        p.join(30)
    # CPU besides wall time: on a shared 2-core machine the tail is mostly waiting for a core.
    print(f"{transport.upper()} fan-out to {units} unit streams{' (unit tokens, pending orders)' if as_units else ''}: {len(got)} received; publish loop "
          f"{publish_s * 1e3:.0f} ms; latency {ms(got)}, max {max(got) * 1e3:.1f} ms; CPU: publisher "
          f"{pub_cpu * 1e3:.0f} ms, server until received {(cpu - pub_cpu) * 1e3:.0f} ms (with the store work it "
          f"caused {(cpu_store - pub_cpu) * 1e3:.0f} ms), "
          f"clients {client_cpu * 1e3:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--responders", type=int, default=10_000)
    ap.add_argument("--decisions", type=int, default=300)
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--db-url", default=None, help="default: a fresh SQLite file in a temporary folder")
    ap.add_argument("--skip-fanout", action="store_true")
    ap.add_argument("--fanout-only", action="store_true", help="only the push fan-out (section 3)")
    ap.add_argument("--as-units", action="store_true",
                    help="fan-out: unit tokens and new (pending) orders: receipts and notified on the path")
    ap.add_argument("--transport", choices=["sse", "ws", "both"], default="sse",
                    help="fan-out over SSE, WebSocket or both")
    ap.add_argument("--expire", action="store_true", help="also time the tick that expires every open order")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lookout-bench-"))
    transports = ["sse", "ws"] if args.transport == "both" else [args.transport]
    if args.fanout_only:
        for t in transports:
            bench_fanout(args.units, t, args.as_units)
        return
    bench_decision(args.db_url or f"sqlite:///{tmp / 'decision.db'}", args.responders, args.decisions)
    bench_open_incidents(args.db_url or f"sqlite:///{tmp / 'open.db'}", args.incidents, args.expire)
    if not args.skip_fanout:
        for t in transports:
            bench_fanout(args.units, t, args.as_units)


if __name__ == "__main__":
    main()
