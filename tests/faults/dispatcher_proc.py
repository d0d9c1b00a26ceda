"""An API-like process for the consumer-crash test: the real Dispatcher and DispatchEngine on a
SQLite store, stopped in the middle of a polled batch.

    python -m tests.faults.dispatcher_proc DB_URL BUS_URL GROUP STOP_AFTER

After STOP_AFTER alerts are stored (each in its own committed transaction) it prints MID and
blocks inside the batch, before the dispatcher commits the batch's offsets. The test SIGKILLs it.
"""

from __future__ import annotations

import sys
import threading

from alerts.bus import open_bus
from alerts.model import Alert
from api.dispatch.engine import DispatchEngine
from api.dispatcher import Dispatcher
from api.store import make_session_factory
from tests.api.conftest import dispatch_config, responders


class _StopMidBatch(DispatchEngine):
    def __init__(self, *args, stop_after: int, **kw) -> None:
        super().__init__(*args, **kw)
        self.stop_after, self.stored = stop_after, 0

    def handle_alert(self, alert: Alert) -> int | None:
        result = super().handle_alert(alert)  # committed to the store on return
        self.stored += 1
        if self.stored == self.stop_after:
            print("MID", flush=True)
            threading.Event().wait()
        return result


def main() -> None:
    db_url, bus_url, group, stop_after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    engine = _StopMidBatch(make_session_factory(db_url), dispatch_config(), stop_after=stop_after)
    engine.upsert_responders(responders())
    dispatcher = Dispatcher(open_bus(bus_url), engine, group, poll_timeout=0.2)
    dispatcher.start()
    dispatcher.join()


if __name__ == "__main__":
    main()
