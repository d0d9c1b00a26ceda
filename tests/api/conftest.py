"""Fixtures for the api tests: real SQLite and PostgreSQL stores, a fake clock, alert factory."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import pytest

from alerts.model import Alert, make_alert_id
from api.config import DispatchFile, Policy, Responder
from api.dispatch.engine import DispatchEngine
from api.store import make_session_factory, migrate
from tests.support.postgres import fresh_database

T0 = 1_800_000_000.0  # fixed simulated epoch so runs are reproducible


class FakeClock:
    """The only fake the house rules allow: simulated time that tests advance by hand."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lookout.db'}"
    else:
        with fresh_database() as url:
            yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lookout.db'}"


@pytest.fixture
def sessions(db_url):
    migrate(db_url)
    factory = make_session_factory(db_url)
    yield factory
    factory.kw["bind"].dispose()


# Around the demo camera at People's Square, Shanghai.
SCENE = (31.2304, 121.4737)


def north_of(meters: float, base: tuple[float, float] = SCENE) -> dict[str, float]:
    return {"lat": base[0] + meters / 111_195.0, "lon": base[1]}


def responders() -> list[Responder]:
    return [
        Responder(id="guard-near", name="g1", type="guard", post=north_of(100)),
        Responder(id="guard-far", name="g2", type="guard", post=north_of(400)),
        Responder(id="guard-unknown", name="g3", type="guard"),  # no post, no position
        Responder(id="patrol-1", name="p1", type="patrol_car", post=north_of(900)),
        Responder(id="patrol-2", name="p2", type="patrol_car", post=north_of(1500)),
        Responder(id="station-1", name="s1", type="station_force", post=north_of(2000)),
        Responder(id="off-1", name="o1", type="guard", post=north_of(10), status="off_duty"),
    ]


def dispatch_config() -> DispatchFile:
    return DispatchFile(policies={
        "low": Policy(tiers=[1]),
        "high": Policy(tiers=[1, 2], ack_deadline_s=30),
        "critical": Policy(tiers=[1, 2, 3], ack_deadline_s=30),
    })


@pytest.fixture
def make_engine(sessions, clock) -> Callable[..., DispatchEngine]:
    def make(**kw) -> DispatchEngine:
        eng = DispatchEngine(sessions, kw.pop("config", dispatch_config()), clock, **kw)
        return eng

    return make


@pytest.fixture
def engine(make_engine) -> DispatchEngine:
    eng = make_engine()
    eng.upsert_responders(responders())
    return eng


def make_alert(*, source: str = "cam-1", zone: str | None = "gate", severity: str = "high",
               observed: float = T0, track: int = 1, lat: float | None = SCENE[0],
               lon: float | None = SCENE[1], snapshot: str | None = None) -> Alert:
    ts = datetime.fromtimestamp(observed, timezone.utc)
    return Alert(
        alert_id=make_alert_id("demo", source, "fence-1", track, observed), site="demo",
        source={"kind": "camera", "id": source}, rule={"id": "fence-1", "kind": "zone", "severity": severity},
        started_at=ts, observed_at=ts, emitted_at=ts, location={"lat": lat, "lon": lon, "zone": zone},
        snapshot=snapshot,
    )


def wait_until(pred: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> object:
    """Poll until `pred()` is truthy; fail (not assert on duration) when it never becomes so."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


TOKENS = {
    "tok-operator": {"role": "operator", "subject": "alice"},
    "tok-engineer": {"role": "engineer", "subject": "erin"},
    "tok-service": {"role": "service", "subject": "gps-gateway"},
    "tok-admin": {"role": "admin", "subject": "root"},
    "tok-unit": {"role": "unit", "subject": "patrol-1"},
    "tok-guard": {"role": "unit", "subject": "guard-near"},
}


def write_configs(config_dir) -> None:
    """The test responders and policies as config files (JSON is YAML), as an operator would."""
    import json

    from api.config import RespondersFile

    config_dir.mkdir(parents=True, exist_ok=True)
    rf = RespondersFile(responders=responders())
    (config_dir / "responders.yaml").write_text(json.dumps(rf.model_dump(mode="json", exclude_none=True)))
    (config_dir / "dispatch.yaml").write_text(json.dumps(dispatch_config().model_dump(mode="json")))


@pytest.fixture
def settings(tmp_path, sqlite_url):
    from api.settings import Settings

    write_configs(tmp_path / "configs")
    return Settings(
        db_url=sqlite_url, bus_url=f"embedded:///{tmp_path.as_posix().lstrip('/')}/bus.db",
        config_dir=tmp_path / "configs", data_dir=tmp_path / "data", tokens=TOKENS,
        dispatcher_enabled=False, tick_interval_s=0.05,
    )
