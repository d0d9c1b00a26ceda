"""Every route × every role: unauthenticated 401, wrong role 403, units confined to their own orders."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    # Starlette warns about its own httpx-based test client at import; it works as documented.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import TOKENS, make_alert
from tests.api.route_rules import BODIES, PATH_VALUES, PUBLIC, RULES

ROLE_TOKEN = {info["role"]: tok for tok, info in TOKENS.items() if tok != "tok-guard"}


def app_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, through included routers too."""

    def walk(routes):
        for r in routes:
            if hasattr(r, "original_router"):  # FastAPI ≥ 0.16x keeps included routers as a node
                yield from walk(r.original_router.routes)
            else:
                yield r

    return sorted({(m, r.path) for r in walk(app.routes) for m in (getattr(r, "methods", None) or ()) if m != "HEAD"})


_APP_FOR_LISTING = create_app(Settings(tokens={}), start_background=False)
ROUTES = app_routes(_APP_FOR_LISTING)


def test_every_route_has_a_rule():
    """A new route must say who may call it (tests/api/route_rules.py); a removed one loses its line."""
    assert sorted(set(ROUTES) - set(RULES)) == [], "routes without an authorization rule"
    assert sorted(set(RULES) - set(ROUTES)) == [], "rules for routes that no longer exist"


@pytest.fixture
def client(settings, clock):
    app = create_app(settings, clock=clock, start_background=False)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


@pytest.fixture
def ids(client):
    alert = make_alert(severity="high")
    client.app_state.engine.handle_alert(alert)
    orders = client.get("/api/orders", headers={"Authorization": "Bearer tok-operator"}).json()
    mine = next(o for o in orders if o["responder_id"] == "patrol-1")
    return {"alert": alert.alert_id, "order": mine["id"], "incident": mine["incident_id"]}


def _call(client, method, path, token=None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, path, headers=headers, json=body)


def test_healthz_is_open(client):
    assert client.get("/healthz").json()["status"] == "ok"


def _fill(template: str, ids: dict) -> str:
    values = {**PATH_VALUES, "order_id": ids["order"], "alert_id": ids["alert"], "incident_id": ids["incident"]}
    for k, v in values.items():
        template = template.replace("{" + k + "}", str(v))
    return template


@pytest.mark.parametrize("method,template", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_role_matrix(client, ids, method, template):
    allowed, stream = RULES[(method, template)]
    path = _fill(template, ids)
    body = BODIES.get(template)
    if allowed is PUBLIC:
        assert _call(client, method, path, body=body).status_code not in (401, 403)
        return
    assert _call(client, method, path, body=body).status_code == 401
    assert _call(client, method, path, "not-a-token", body=body).status_code == 401
    for role, token in ROLE_TOKEN.items():
        if role in allowed or role == "admin":
            if stream:
                continue  # an allowed stream never ends; test_sse opens them for real
            code = _call(client, method, path, token, body=body).status_code
            assert code not in (401, 403), f"{role} refused on {method} {path}"
            assert code < 500, f"{role}: {method} {path} → {code}"
        else:
            assert _call(client, method, path, token, body=body).status_code == 403, f"{role} allowed on {method} {path}"


def test_query_token_only_on_streams(client, ids):
    assert client.get("/api/alerts?access_token=tok-operator").status_code == 401
    assert client.get("/api/units/guard-near/stream?access_token=tok-unit").status_code == 403


def test_unit_sees_and_changes_only_its_own_orders(client, ids):
    unit = {"Authorization": "Bearer tok-unit"}
    all_orders = client.get("/api/orders", headers={"Authorization": "Bearer tok-operator"}).json()
    assert {o["responder_id"] for o in all_orders} == {"guard-near", "patrol-1"}
    mine = client.get("/api/orders", headers=unit).json()
    assert [o["responder_id"] for o in mine] == ["patrol-1"]
    other = next(o for o in all_orders if o["responder_id"] == "guard-near")
    assert client.post(f"/api/orders/{other['id']}/acknowledge", headers=unit).status_code == 403
    assert client.get("/api/units/guard-near/stream", headers=unit).status_code == 403
    assert client.post("/api/responders/guard-near/position", headers=unit,
                       json={"lat": 31.2, "lon": 121.4}).status_code == 403
    r = client.post(f"/api/orders/{ids['order']}/acknowledge", headers=unit)
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    # Illegal transition → 409 with the reason.
    r = client.post(f"/api/orders/{ids['order']}/acknowledge", headers=unit)
    assert r.status_code == 409 and "cannot go from acknowledged" in r.json()["detail"]
    assert client.post("/api/orders/99999/acknowledge", headers=unit).status_code == 404


def test_snapshot_served_only_under_data_dir(client, settings, tmp_path):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    jpeg = settings.data_dir / "snap.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"\xff\xd8\xff\xd9")
    engine, op = client.app_state.engine, {"Authorization": "Bearer tok-operator"}
    inside = make_alert(track=7, snapshot=jpeg.as_uri())
    escape = make_alert(track=8, snapshot=outside.as_uri(), source="cam-9")
    engine.handle_alert(inside)
    engine.handle_alert(escape)
    r = client.get(f"/api/alerts/{inside.alert_id}/snapshot", headers=op)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content == jpeg.read_bytes()
    assert client.get(f"/api/alerts/{escape.alert_id}/snapshot", headers=op).status_code == 404
    listed = client.get("/api/alerts", headers=op).json()
    assert {a["snapshot_url"] for a in listed} == {f"/api/alerts/{inside.alert_id}/snapshot",
                                                   f"/api/alerts/{escape.alert_id}/snapshot"}


def test_console_page_served(client):
    assert "EventSource" in client.get("/static/app.js").text
    assert "<title>Lookout console</title>" in client.get("/").text


def test_login_tokens_follow_the_same_matrix(client, ids):
    """A password login of each role is allowed and refused exactly where that role's API token is."""
    from api import users

    tokens = {}
    for role in ROLE_TOKEN:
        with client.app_state.sessions() as s:
            users.add_user(s, users.NewUser(username=f"u-{role}", password="matrix password", role=role,
                                            unit="patrol-1" if role == "unit" else None),
                           now=0, actor="test", origin="test")
        r = client.post("/api/auth/token", data={"username": f"u-{role}", "password": "matrix password"})
        tokens[role] = r.json()["access_token"]
    for method, template in ROUTES:
        allowed, stream = RULES[(method, template)]
        if allowed is PUBLIC:
            continue
        path, body = _fill(template, ids), BODIES.get(template)
        for role, token in tokens.items():
            ok = role in allowed or role == "admin"
            if ok and stream:
                continue  # an allowed stream never ends
            code = _call(client, method, path, token, body=body).status_code
            if ok:
                assert code not in (401, 403) and code < 500, f"login {role}: {method} {path} → {code}"
            else:
                assert code == 403, f"login {role} allowed on {method} {path} ({code})"
