"""Password login → JWT: users in the store, token checks, disabled users, rate limits, audit,
and the users table's migration on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import warnings

import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy import inspect, select, text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api import users
from api.app import create_app
from api.store import make_engine, migrate
from api.store.models import AuditRow, UserRow
from tests.api.conftest import make_alert

SECRET = "test-jwt-secret-0123456789abcdef0123456789"


@pytest.fixture
def client(settings, clock):
    settings.jwt_secret = SecretStr(SECRET)
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


def add(client, username: str, password: str = "correct horse battery", **kw) -> None:
    with client.app_state.sessions() as s:
        users.add_user(s, users.NewUser(username=username, password=password, **kw),
                       now=client.app_state.engine.clock(), actor="test", origin="test")


def login(client, username: str, password: str = "correct horse battery"):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def audit_rows(client, action_prefix: str = "login") -> list[AuditRow]:
    with client.app_state.sessions() as s:
        return list(s.scalars(select(AuditRow).where(AuditRow.action.like(f"{action_prefix}%")).order_by(AuditRow.id)))


def test_login_issues_a_jwt_that_authenticates(client, clock):
    add(client, "olga", role="operator", node=None)
    r = login(client, "olga")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "operator" and body["expires_in"] == 8 * 3600
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], options={"verify_exp": False,
                                                                                    "verify_iat": False})
    assert {"sub", "role", "node", "unit", "exp", "jti", "iat"} <= set(claims) and claims["sub"] == "olga"
    me = client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.json() == {"role": "operator", "subject": "olga", "node": None, "user": "olga"}
    client.app_state.engine.handle_alert(make_alert())
    assert len(client.get("/api/incidents", headers=bearer(body["access_token"])).json()) == 1
    # The role still decides: an operator token may not save fences (engineer only).
    assert client.put("/api/fences", headers=bearer(body["access_token"]), json={}).status_code == 403
    # API tokens keep working next to logins.
    assert client.get("/api/auth/me", headers=bearer("tok-engineer")).json()["role"] == "engineer"
    with client.app_state.sessions() as s:
        assert s.scalar(select(UserRow.last_login_at).where(UserRow.username == "olga")) == clock()
    (ok,) = audit_rows(client)
    assert (ok.action, ok.actor, ok.origin, ok.target) == ("login", "operator:olga", "testclient", "user:olga")


def test_wrong_password_and_unknown_user_look_the_same_and_are_audited(client):
    add(client, "olga", role="operator")
    bad = login(client, "olga", "not the password")
    nobody = login(client, "nobody", "whatever-password")
    assert bad.status_code == nobody.status_code == 401
    assert bad.json() == nobody.json() == {"detail": "incorrect username or password"}
    assert login(client, "bad name!", "x").status_code == 401  # malformed: refused, audited, no lookup
    rows = audit_rows(client)
    assert [(r.action, r.target, r.detail["reason"]) for r in rows] == [
        ("login.failed", "user:olga", "wrong password"), ("login.failed", "user:nobody", "unknown user"),
        ("login.failed", "user:bad name!", "malformed")]
    assert all(r.origin == "testclient" for r in rows)
    # The password is nowhere in the audit trail.
    assert not any("not the password" in repr((r.actor, r.target, r.detail)) for r in rows)


def test_disabled_user_cannot_log_in_and_its_token_stops_working(client):
    add(client, "olga", role="operator")
    tok = login(client, "olga").json()["access_token"]
    assert client.get("/api/incidents", headers=bearer(tok)).status_code == 200
    with client.app_state.sessions() as s:
        users.set_disabled(s, "olga", True, now=0, actor="admin:root", origin="cli")
    # Checked on every request: the very next call is refused.
    assert client.get("/api/incidents", headers=bearer(tok)).status_code == 401
    r = login(client, "olga")
    assert r.status_code == 401
    assert audit_rows(client)[-1].detail == {"reason": "disabled"}
    assert [r.action for r in audit_rows(client, "user.")] == ["user.add", "user.disable"]
    with client.app_state.sessions() as s:
        users.set_disabled(s, "olga", False, now=0, actor="admin:root", origin="cli")
    assert client.get("/api/incidents", headers=bearer(tok)).status_code == 200


def test_expired_forged_and_foreign_tokens_are_refused(client, clock):
    add(client, "olga", role="operator")
    tok = login(client, "olga").json()["access_token"]
    claims = jwt.decode(tok, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    forged = [
        jwt.encode({**claims, "role": "admin"}, "another-secret-0123456789abcdef0123", algorithm="HS256"),
        jwt.encode({**claims, "iss": "someone-else"}, SECRET, algorithm="HS256"),
        jwt.encode({k: v for k, v in claims.items() if k != "jti"}, SECRET, algorithm="HS256"),
        # alg "none": header and claims, no signature.
        jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode() + "."
        + jwt.utils.base64url_encode(jwt.utils.force_bytes(__import__("json").dumps(claims))).decode() + ".",
        tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB"),
    ]
    for f in forged:
        assert client.get("/api/auth/me", headers=bearer(f)).status_code == 401, f
    assert client.get("/api/auth/me", headers=bearer(tok)).status_code == 200
    clock.advance(8 * 3600 + 1)
    assert client.get("/api/auth/me", headers=bearer(tok)).status_code == 401


def test_role_and_node_come_from_the_user_row(client):
    add(client, "olga", role="operator", node="st-a")
    tok = login(client, "olga").json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(tok)).json()["node"] == "st-a"
    with client.app_state.sessions() as s:
        row = s.scalar(select(UserRow).where(UserRow.username == "olga"))
        row.role = "engineer"
        s.commit()
    # A demotion applies at once, whatever the token says.
    assert client.get("/api/auth/me", headers=bearer(tok)).json()["role"] == "engineer"
    assert client.post("/api/drills", headers=bearer(tok), json={"lat": 31.2, "lon": 121.4}).status_code == 403


def test_unit_user_acts_only_for_its_responder(client):
    add(client, "pat", role="unit", unit="patrol-1")
    tok = login(client, "pat").json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(tok)).json() == {
        "role": "unit", "subject": "patrol-1", "node": None, "user": "pat"}
    client.app_state.engine.handle_alert(make_alert(severity="high"))
    mine = client.get("/api/orders", headers=bearer(tok)).json()
    assert [o["responder_id"] for o in mine] == ["patrol-1"]
    assert client.post("/api/responders/guard-near/status", headers=bearer(tok),
                       json={"status": "busy"}).status_code == 403
    assert client.post("/api/responders/patrol-1/status", headers=bearer(tok),
                       json={"status": "busy"}).status_code == 200
    assert client.get("/api/incidents", headers=bearer(tok)).status_code == 403


def test_login_rate_limited_per_username_and_per_address(client, clock, settings):
    add(client, "olga", role="operator")
    codes = [login(client, "olga", f"guess-{i}").status_code for i in range(settings.login_user_burst)]
    assert codes == [401] * settings.login_user_burst
    r = login(client, "olga")  # even the right password: the bucket is empty
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["detail"] == "too many login attempts; try again later"
    # Another name from the same address still gets through (its own bucket; the address has room).
    assert login(client, "Nobody", "x-password").status_code == 401
    assert login(client, "OLGA").status_code == 429  # names are limited case-insensitively
    clock.advance(int(r.headers["Retry-After"]))
    assert login(client, "olga").status_code == 200
    # Per address: spraying many names runs out of the address bucket too.
    clock.advance(3600)
    got = [login(client, f"user{i}", "x-password").status_code for i in range(settings.login_ip_burst + 1)]
    assert got[:-1] == [401] * settings.login_ip_burst and got[-1] == 429
    # Refused attempts are not hashed and not audited: the limit bounds the audit table too.
    assert len([r for r in audit_rows(client) if r.action == "login.failed"]) == \
        settings.login_user_burst + 1 + settings.login_ip_burst


def test_login_validates_the_form(client):
    assert client.post("/api/auth/token", data={"username": "olga"}).status_code == 422
    assert client.post("/api/auth/token", json={"username": "a", "password": "b"}).status_code == 422
    assert client.post("/api/auth/token", data={"username": "a" * 65, "password": "b"}).status_code == 401


def test_new_user_validation():
    with pytest.raises(ValueError, match="needs `unit`"):
        users.NewUser(username="u", password="long enough pw", role="unit")
    with pytest.raises(ValueError, match="only for role unit"):
        users.NewUser(username="u", password="long enough pw", role="operator", unit="patrol-1")
    with pytest.raises(ValueError, match="at least 10"):
        users.NewUser(username="u", password="short", role="operator")
    with pytest.raises(ValueError, match="pattern"):
        users.NewUser(username="bad name", password="long enough pw", role="operator")
    assert "long enough pw" not in repr(users.NewUser(username="u", password="long enough pw", role="operator"))


def test_duplicate_username_refused(sessions):
    new = users.NewUser(username="olga", password="long enough pw", role="operator")
    with sessions() as s:
        users.add_user(s, new, now=1, actor="t", origin="t")
    with sessions() as s, pytest.raises(users.UserExists):
        users.add_user(s, new, now=1, actor="t", origin="t")


def test_random_secret_when_unset_warns_without_logging_it(settings, clock, caplog):
    settings.jwt_secret = None
    with caplog.at_level(logging.WARNING, logger="api.auth"):
        app = create_app(settings, clock=clock, start_background=False)
    assert "LOOKOUT_JWT_SECRET is not set" in caplog.text
    assert app.state.login_tokens._key not in caplog.text
    with TestClient(app) as c:
        c.app_state = app.state
        add(c, "olga", role="operator")
        tok = login(c, "olga").json()["access_token"]
        assert c.get("/api/auth/me", headers=bearer(tok)).status_code == 200
    # Another process (another app) has another key: the token is not accepted there.
    other = create_app(settings, clock=clock, start_background=False)
    with TestClient(other) as c:
        assert c.get("/api/auth/me", headers=bearer(tok)).status_code == 401


def test_secret_settings_are_validated_and_hidden():
    from pydantic import ValidationError

    from api.settings import Settings

    with pytest.raises(ValidationError, match="jwt_secret"):
        Settings(jwt_secret="short")
    s = Settings(jwt_secret=SECRET)
    assert SECRET not in repr(s) and SECRET not in str(s.model_dump())


def test_users_migration_from_0003_and_back(db_url):
    """A 0003 database with data gains the users table; down to 0003 and up again works."""
    from alembic import command
    from alembic.config import Config

    from api.store import _PKG

    cfg = Config(str(_PKG / "alembic.ini"))
    cfg.set_main_option("script_location", str(_PKG / "migrations"))
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
        with eng.begin() as c:
            c.execute(text("INSERT INTO responders (id, name, type, tier, speed_mps, status, node)"
                           " VALUES ('g', 'G', 'guard', 1, 2.0, 'busy', 'st-a')"))
        assert "users" not in inspect(eng).get_table_names()
        migrate(db_url)
        with eng.connect() as c:
            assert c.execute(text("select version_num from alembic_version")).scalar() == "0004"
            assert c.execute(text("select node from responders")).scalar() == "st-a"
        cols = {c["name"] for c in inspect(eng).get_columns("users")}
        assert cols == {"id", "username", "password_hash", "role", "unit", "node", "disabled", "created_at",
                        "last_login_at"}
        from api.store import make_session_factory

        factory = make_session_factory(eng)
        new = users.NewUser(username="olga", password="long enough pw", role="operator")
        with factory() as s:
            users.add_user(s, new, now=1, actor="t", origin="t")
            assert users.list_users(s)[0].disabled is False
        with eng.begin() as c, pytest.raises(Exception, match="(?i)unique"):
            c.execute(text("INSERT INTO users (username, password_hash, role, created_at)"
                           " VALUES ('olga', 'x', 'operator', 1)"))
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        assert "users" not in inspect(eng).get_table_names()
        migrate(db_url)
        assert "users" in inspect(eng).get_table_names()
    finally:
        eng.dispose()


def test_users_cli_add_list_disable(tmp_path):
    """`lookout users ...` through the real entry point wiring (api.cli.register), on a real store."""
    import typer
    from typer.testing import CliRunner

    from api.cli import register
    from api.store import make_session_factory

    app = typer.Typer()
    register(app)
    run = CliRunner().invoke
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    out = run(app, ["users", "add", "anna", "--role", "operator", "--node", "st-a", "--password-stdin",
                    "--db-url", url], input="station a password\n")
    assert out.exit_code == 0, out.output
    assert "added anna (operator, node st-a)" in out.output and "station a password" not in out.output
    out = run(app, ["users", "add", "anna", "--role", "operator", "--password-stdin", "--db-url", url],
              input="station a password\n")
    assert out.exit_code == 1 and "already exists" in out.output
    out = run(app, ["users", "add", "pat", "--role", "unit", "--password-stdin", "--db-url", url],
              input="long password\n")
    assert out.exit_code == 2 and "needs `unit`" in out.output
    out = run(app, ["users", "add", "bo", "--role", "engineer", "--password-stdin", "--db-url", url], input="short\n")
    assert out.exit_code == 2 and "password: String should have at least 10 characters" in out.output
    out = run(app, ["users", "disable", "anna", "--db-url", url])
    assert out.exit_code == 0 and "disabled anna" in out.output
    assert run(app, ["users", "disable", "nobody", "--db-url", url]).exit_code == 1
    out = run(app, ["users", "list", "--db-url", url])
    assert out.exit_code == 0 and out.output.startswith("anna\toperator\t-\tst-a\tdisabled\tlast login never")
    factory = make_session_factory(url)
    with factory() as s:
        rows = s.scalars(select(AuditRow).order_by(AuditRow.id)).all()
        assert [(r.action, r.target) for r in rows] == [("user.add", "user:anna"), ("user.disable", "user:anna")]
        assert rows[0].actor.startswith("cli:") and rows[0].origin.startswith("cli@")
        assert users.authenticate(s, "anna", "station a password", now=1, origin="t") is None  # disabled
    factory.kw["bind"].dispose()


def test_access_log_masks_query_tokens(settings, clock):
    """`lookout api`'s uvicorn config: a stream/snapshot URL's ?access_token= never reaches the log."""
    import threading

    import httpx
    import uvicorn

    from api.cli import server_config
    from tests.api.conftest import wait_until
    from tests.api.server import free_port

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    port = free_port()
    config = server_config(create_app(settings, clock=clock, start_background=False), "127.0.0.1", port)
    access = logging.getLogger("uvicorn.access")
    keep = Keep()
    access.addHandler(keep)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, what="uvicorn start")
        r = httpx.get(f"http://127.0.0.1:{port}/api/alerts/x/snapshot?access_token=tok-operator&x=1")
        assert r.status_code == 404
        wait_until(lambda: any("/snapshot" in x for x in lines), what="access log line")
    finally:
        server.should_exit = True
        thread.join(10)
        access.removeHandler(keep)
        for f in list(access.filters):
            access.removeFilter(f)
    line = next(x for x in lines if "/snapshot" in x)
    assert "access_token=***&x=1" in line and "tok-operator" not in line


def test_control_characters_in_the_username_are_audited_escaped(client):
    assert login(client, "ol\x00ga\n", "whatever-password").status_code == 401
    assert login(client, "olga\n", "whatever-password").status_code == 401  # no `$`-before-newline slip
    rows = audit_rows(client)
    assert [(r.target, r.detail["reason"]) for r in rows] == [("user:ol\\x00ga\\n", "malformed"),
                                                              ("user:olga\\n", "malformed")]


def test_login_token_in_the_query_only_where_api_tokens_may_be(client, settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    jpeg = settings.data_dir / "snap.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xd9")
    alert = make_alert(snapshot=jpeg.as_uri())
    client.app_state.engine.handle_alert(alert)
    add(client, "olga", role="operator")
    tok = login(client, "olga").json()["access_token"]
    assert client.get(f"/api/alerts?access_token={tok}").status_code == 401
    assert client.get(f"/api/alerts/{alert.alert_id}/snapshot?access_token={tok}").status_code == 200
