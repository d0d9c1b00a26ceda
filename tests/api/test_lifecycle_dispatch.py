"""Alert lifecycle at the dispatcher: updates and ends refresh the alert, never dispatch again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from alerts.build import follow_up
from api.store import AlertRow, IncidentRow, OrderRow
from tests.api.conftest import make_alert


def _counts(sessions):
    with sessions() as s:
        return (len(list(s.scalars(select(AlertRow)))), len(list(s.scalars(select(IncidentRow)))),
                len(list(s.scalars(select(OrderRow)))))


def test_updates_and_end_refresh_the_alert_without_new_orders(engine, sessions, clock):
    start = make_alert(observed=clock())
    incident = engine.handle_alert(start)
    assert incident is not None
    before = _counts(sessions)
    update = follow_up(start, "update", observed_at=start.observed_at + timedelta(seconds=30), evidence={"open_s": 30})
    end = follow_up(update, "end", observed_at=start.observed_at + timedelta(seconds=45))
    assert engine.handle_alert(update) == incident
    assert engine.handle_alert(update) is None  # redelivered update: a duplicate
    assert engine.handle_alert(end) == incident
    assert engine.handle_alert(update) is None  # late, older than what is stored
    assert _counts(sessions) == before  # one alert, one incident, no extra orders
    with sessions() as s:
        row = s.get(AlertRow, start.alert_id)
        assert (row.payload["lifecycle"], row.payload["sequence"]) == ("end", 2)
        assert row.payload["evidence"] == {"open_s": 30}
        inc = s.get(IncidentRow, incident)
        assert inc.last_observed_at == end.observed_at.timestamp()
