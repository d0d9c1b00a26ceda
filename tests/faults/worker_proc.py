"""A worker-like process for the SIGKILL tests: the real Outbox and OutboxRelay, and a stop point.

    python -m tests.faults.worker_proc OUTBOX BUS_URL MODE COUNT

MODE `put`: store COUNT alerts in the outbox, print PUT and block before any send.
MODE `sent`: store them, let the relay send and flush them, print SENT and block before the
relay marks them sent (the one place where a crash makes a re-send).
MODE `relay`: the restarted worker: deliver what is pending, print DRAINED, exit.
The test SIGKILLs the process where it blocks.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from alerts.bus import open_bus
from alerts.outbox import Outbox, OutboxRelay
from tests.api.conftest import make_alert


class _StopBeforeMark(Outbox):
    """The relay marks its rows (`mark_span`) right after the bus acknowledged the flush: stop there."""

    def mark_span(self, topic: str, first_seq: int, last_seq: int) -> int:
        print("SENT", flush=True)
        threading.Event().wait()


def main() -> None:
    path, url, mode, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    outbox = (_StopBeforeMark if mode == "sent" else Outbox)(Path(path))
    if mode in ("put", "sent"):
        outbox.put_many([make_alert(source=f"cam-{i % 3}", track=i, observed=1_800_000_000.0 + i)
                         for i in range(count)])
    if mode == "put":
        print("PUT", flush=True)
        threading.Event().wait()
    relay = OutboxRelay(outbox, open_bus(url), flush_timeout=5.0, max_backoff=1.0).start()
    if mode == "sent":
        threading.Event().wait()
    if not relay.drain(timeout=120):
        sys.exit("not drained")
    relay.stop()
    print("DRAINED", flush=True)


if __name__ == "__main__":
    main()
