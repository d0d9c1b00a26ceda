"""Order actions over HTTP: the optional note body (how an incident was resolved) is kept and shown."""

from __future__ import annotations

import warnings

from sqlalchemy import select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette warns about its httpx-based test client at import
    from fastapi.testclient import TestClient

from api.app import create_app
from api.store.models import OrderEventRow
from tests.api.conftest import make_alert

OP = {"Authorization": "Bearer tok-operator"}
UNIT = {"Authorization": "Bearer tok-unit"}


def test_resolve_note_is_stored_and_listed(settings, clock):
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        app.state.engine.handle_alert(make_alert(severity="high"))
        mine = c.get("/api/orders", headers=UNIT).json()[0]
        assert c.post(f"/api/orders/{mine['id']}/acknowledge", headers=UNIT).status_code == 200
        note = "false alarm: a delivery van at the gate"
        r = c.post(f"/api/orders/{mine['id']}/resolve", headers=UNIT, json={"note": note})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "resolved" and r.json()["resolve_note"] == note
        listed = {o["id"]: o for o in c.get("/api/orders", headers=OP).json()}
        assert listed[mine["id"]]["resolve_note"] == note
        # The note lives in the audit entry of the change (append-only trail).
        with app.state.sessions() as s:
            ev = s.scalars(select(OrderEventRow).where(OrderEventRow.order_id == mine["id"],
                                                       OrderEventRow.new_state == "resolved")).one()
        assert ev.detail == {"note": note} and ev.actor == "unit:patrol-1"
        # Other orders of the incident were cancelled, not resolved: no resolve_note key.
        assert all("resolve_note" not in o for o in listed.values() if o["state"] != "resolved")
        # A body is optional, and a bad one is refused with the field named.
        app.state.engine.handle_alert(make_alert(severity="high", source="cam-2"))
        other = next(o for o in c.get("/api/orders?open=true", headers=OP).json())
        assert c.post(f"/api/orders/{other['id']}/acknowledge", headers=OP).status_code == 200
        bad = c.post(f"/api/orders/{other['id']}/resolve", headers=OP, json={"note": 5})
        assert bad.status_code == 422 and "note" in bad.text
        r = c.post(f"/api/orders/{other['id']}/resolve", headers=OP)
        assert r.status_code == 200 and r.json()["resolve_note"] is None
