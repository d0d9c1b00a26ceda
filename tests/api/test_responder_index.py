"""The in-memory responder index stays in step with the store: this instance's writes at once,
other instances' writes after the version check, rolled-back writes never."""

from __future__ import annotations

import pytest

from api.dispatch import operator
from api.dispatch.engine import DispatchEngine
from api.store import OrderRow, ResponderRow, make_session_factory
from tests.api.conftest import dispatch_config, make_alert, north_of, responders


class Ticks:
    """Monotonic time the test moves by hand (the version check's schedule)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def eng(sessions, clock) -> DispatchEngine:
    cfg = dispatch_config()
    cfg.index_refresh_s = 60
    e = DispatchEngine(sessions, cfg, clock)
    e.index.monotonic = Ticks()
    e.upsert_responders(responders())
    return e


def ordered(sessions, iid: int, tier: int) -> list[str]:
    with sessions() as s:
        return [o.responder_id for o in s.query(OrderRow).filter_by(incident_id=iid, tier=tier).order_by(OrderRow.id)]


def available_ids(eng: DispatchEngine, tier: int) -> set[str]:
    u = eng.index.units(tier)
    return {str(i) for i, st in zip(u.ids, u.status, strict=True) if st == "available"}


def test_status_change_drops_a_unit_at_once(eng, sessions, clock):
    assert "guard-near" in available_ids(eng, 1)
    reloads = eng.index.reloads
    operator.set_status(eng, "guard-near", "busy", actor="alice", origin="test")
    assert "guard-near" not in available_ids(eng, 1)
    assert eng.index.reloads == reloads  # patched in place, not re-read
    iid = eng.handle_alert(make_alert(severity="low", observed=clock()))
    assert ordered(sessions, iid, 1) == ["guard-far"]
    operator.set_status(eng, "guard-near", "available", actor="alice", origin="test")
    clock.advance(1000)
    iid2 = eng.handle_alert(make_alert(source="cam-2", severity="low", observed=clock()))
    assert ordered(sessions, iid2, 1) == ["guard-near"]


def test_position_update_counts_at_once(eng, sessions, clock):
    eng.index.units(1)  # loaded
    eng.update_position("guard-far", *north_of(5).values())  # now right at the scene
    iid = eng.handle_alert(make_alert(severity="low", observed=clock()))
    assert ordered(sessions, iid, 1) == ["guard-far"]
    # Our own writes move the expected version along: the next version check finds no change.
    reloads = eng.index.reloads
    operator.set_status(eng, "guard-near", "busy", actor="alice", origin="test")
    eng.index.monotonic.t += 61
    eng.index.units(1)
    assert eng.index.reloads == reloads


def test_rolled_back_change_never_reaches_the_index(eng, sessions):
    eng.index.units(1)
    with sessions() as s:
        s.begin()
        s.get(ResponderRow, "guard-near").status = "off_duty"
        s.flush()
        s.rollback()
    assert "guard-near" in available_ids(eng, 1)


def test_another_instance_is_seen_after_the_version_check(eng, sessions, db_url):
    eng.index.units(1)
    other = make_session_factory(db_url)  # a second API instance: its own pool, no shared listeners
    try:
        with other() as s, s.begin():
            r = s.get(ResponderRow, "guard-near")
            r.status, r.status_at = "busy", 1.0e10
        assert "guard-near" in available_ids(eng, 1)  # not yet: within refresh_s
        eng.index.monotonic.t += 61
        assert "guard-near" not in available_ids(eng, 1)
    finally:
        other.kw["bind"].dispose()


def test_new_unit_and_tier_change_reload(eng, sessions, clock):
    from api.config import Responder

    eng.index.units(2)
    eng.upsert_responders([Responder(id="patrol-new", name="pn", type="patrol_car", post=north_of(50))])
    assert "patrol-new" in available_ids(eng, 2)
    eng.upsert_responders([Responder(id="patrol-new", name="pn", type="patrol_car", tier=1, post=north_of(50))])
    assert "patrol-new" not in available_ids(eng, 2) and "patrol-new" in available_ids(eng, 1)
