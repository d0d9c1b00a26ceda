"""Dispatch benchmarks: decision time, open incidents with live timers, SSE fan-out.

    .venv/bin/python bench/dispatch.py [--responders 10000] [--decisions 300] [--incidents 1000]
        [--units 1000] [--db-url sqlite:///...] [--skip-fanout]

1. Decision: `selection.select` (the pick of the best units of a tier) over `--responders`
   units (a third tier 1, a third tier 2, a third tier 3; half with fresh live positions), p50/p99
   over `--decisions` random incident places; and the whole `handle_alert` transaction (store
   row, grouping, candidate query, orders, audit) on the store given by `--db-url`.
2. Open incidents: `--incidents` incidents with their orders open at once; `tick()` p50/p99 while
   none is due (and with `--expire` the tick that expires them all); CPU seconds and peak RSS.
3. Fan-out: uvicorn serves the app in this process; a child process opens `--units` unit SSE
   streams; one order event per unit is published through the push hub; latency from publish to
   receipt per unit (the child stamps arrival; one machine, so clocks agree), p50/p99/max.
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
    pure, pure_cpu, query = [], [], []
    for _ in range(decisions):
        target = (CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.1, 0.1))
        tier = rng.choice([1, 2, 3])
        t0, c0 = time.perf_counter(), time.thread_time()
        selection.select(by_tier[tier], 1, tier=tier, target=target, now=clock(), detour_factor=1.3, stale_s=300,
                         exclude={"u00001", "u00002"})
        pure.append(time.perf_counter() - t0)
        pure_cpu.append(time.thread_time() - c0)
        t0 = time.perf_counter()
        with sessions() as s:
            list(s.execute(select(*(getattr(ResponderRow, c) for c in RANK_COLUMNS))
                           .where(ResponderRow.tier == tier, ResponderRow.status == "available")))
        query.append(time.perf_counter() - t0)
    # CPU time besides wall time: on a shared, loaded machine the wall clock mostly measures the queue.
    print(f"decision: ranking one tier's ~{n // 3} available units of {n}: wall {ms(pure)}; CPU {ms(pure_cpu)}")
    print(f"  + the candidate query that loads them ({db_url.split(':')[0]}): {ms(query)}")
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

def _client_proc(url: str, units: int, ready, results) -> None:  # noqa: ANN001
    """Raw asyncio sockets, not httpx: with 1,000 streams in one Python process the client's own
    parsing would dominate what is measured (httpx measured ~5 s p50 here, mostly client side)."""
    from urllib.parse import urlparse

    u = urlparse(url)

    async def one(unit: str, got: list[float], connected: list[int]) -> None:
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        writer.write(f"GET /api/units/{unit}/stream HTTP/1.1\r\nHost: {u.netloc}\r\n"
                     f"Authorization: Bearer bench-op\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        connected.append(1)
        while True:
            line = await reader.readline()
            if not line:
                return
            if b'"bench_sent"' in line:
                got.append(time.time() - json.loads(line[line.index(b"{"):])["bench_sent"])
                writer.close()
                return

    async def main() -> None:
        got: list[float] = []
        connected: list[int] = []
        tasks = [asyncio.create_task(one(f"u{i:05d}", got, connected)) for i in range(units)]
        while len(connected) < units:
            await asyncio.sleep(0.05)
        ready.set()
        await asyncio.wait(tasks, timeout=120)
        results.put(got)

    asyncio.run(main())


def bench_fanout(units: int) -> None:
    from api.app import create_app
    from api.settings import Settings
    from tests.api.server import serve

    tmp = Path(tempfile.mkdtemp(prefix="lookout-bench-"))
    (tmp / "configs").mkdir()
    st = Settings(db_url=f"sqlite:///{tmp / 'db.sqlite'}", bus_url=f"embedded:///{tmp.as_posix().lstrip('/')}/bus.db",
                  config_dir=tmp / "configs", data_dir=tmp, dispatcher_enabled=False, sse_keepalive_s=30,
                  tokens={"bench-op": {"role": "operator", "subject": "bench"}})
    app = create_app(st, start_background=False)
    with serve(app) as url:
        ctx = mp.get_context("spawn")
        ready, results = ctx.Event(), ctx.Queue()
        p = ctx.Process(target=_client_proc, args=(url, units, ready, results))
        p.start()
        if not ready.wait(180):
            raise SystemExit("clients did not connect")
        while app.state.hub.subscriber_count("u00000") < 1:
            time.sleep(0.05)
        time.sleep(1.0)  # let every stream send its (empty) replay
        hub = app.state.hub
        t0 = time.perf_counter()
        for i in range(units):
            hub.publish({"type": "order", "incident_id": 0, "bench_sent": time.time(),
                         "order": {"id": i, "responder_id": f"u{i:05d}", "state": "notified"}})
        publish_s = time.perf_counter() - t0
        got = results.get(timeout=180)
        p.join(30)
    print(f"SSE fan-out to {units} unit streams: {len(got)} received; publish loop {publish_s * 1e3:.0f} ms; "
          f"latency {ms(got)}, max {max(got) * 1e3:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--responders", type=int, default=10_000)
    ap.add_argument("--decisions", type=int, default=300)
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--db-url", default=None, help="default: a fresh SQLite file in a temporary folder")
    ap.add_argument("--skip-fanout", action="store_true")
    ap.add_argument("--expire", action="store_true", help="also time the tick that expires every open order")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lookout-bench-"))
    bench_decision(args.db_url or f"sqlite:///{tmp / 'decision.db'}", args.responders, args.decisions)
    bench_open_incidents(args.db_url or f"sqlite:///{tmp / 'open.db'}", args.incidents, args.expire)
    if not args.skip_fanout:
        bench_fanout(args.units)


if __name__ == "__main__":
    main()
